import type { EpochReport, TrainingConfig, TrainingDataset, TrainingResult } from '@diyml/ml';

/** Messages between the job (main thread) and the training thread. */
export type ToTrainingThread =
  { type: 'train'; dataset: TrainingDataset; config: Partial<TrainingConfig> } | { type: 'cancel' };

export type FromTrainingThread =
  | { type: 'started'; backend: string }
  | { type: 'epoch'; report: EpochReport }
  | { type: 'done'; result: TrainingResult }
  | { type: 'cancelled' }
  | { type: 'failed'; message: string; invalidInput: boolean };
