import type { SerializedModel, Task } from '@diyml/ml';

export interface ToModelCheckThread {
  model: SerializedModel;
  /** Largest width × height of input the model may declare. */
  maxInputPixels: number;
}

export type FromModelCheckThread =
  { type: 'valid'; task: Task; architecture: string; labels: string[] } | { type: 'invalid'; reason: string };
