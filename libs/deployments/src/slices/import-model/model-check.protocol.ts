import type { SerializedModel, Task } from '@diyml/ml';

export interface ToModelCheckThread {
  model: SerializedModel;
  /** Largest width × height of input the model may declare. */
  maxInputPixels: number;
}

export type ModelCheck =
  { type: 'valid'; task: Task; architecture: string; labels: string[] } | { type: 'invalid'; reason: string };

export type FromModelCheckThread = ModelCheck & {
  /** The thread is back at the tensors it held before the check: fit to check the next model. */
  tensorsReleased: boolean;
};
