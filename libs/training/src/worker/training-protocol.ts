import type {
  BatchReport,
  EmbeddingTable,
  EpochReport,
  PreparationReport,
  TrainingConfig,
  TrainingDataset,
  TrainingResult,
} from '@diyml/ml';

/** Messages between the job (main thread) and the training thread. */
export type ToTrainingThread =
  { type: 'train'; dataset: TrainingDataset; config: Partial<TrainingConfig> } | { type: 'cancel' };

export type FromTrainingThread =
  | { type: 'started'; backend: string }
  | { type: 'preparation'; report: PreparationReport }
  | { type: 'batch'; report: BatchReport }
  | { type: 'epoch'; report: EpochReport }
  /** `tensorsReleased`: the thread holds no more tensors than before the run, so it can train again. */
  | { type: 'done'; result: TrainingResult; tensorsReleased: boolean }
  | { type: 'cancelled' }
  | { type: 'failed'; message: string; invalidInput: boolean };

/** The buffers of every vector of `tables`, each once: they can be transferred to another thread. */
export function vectorBuffers(tables: readonly EmbeddingTable[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const table of tables)
    for (const views of table.vectors.values())
      for (const vector of views.values()) buffers.add(vector.buffer as ArrayBuffer);
  return [...buffers];
}

/** The buffers holding the dataset's encoded images, each once: they move to the training thread. */
export function imageBuffers(dataset: TrainingDataset): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { image } of dataset.examples)
    if (image instanceof Uint8Array && !(image.buffer instanceof SharedArrayBuffer)) buffers.add(image.buffer);
  return [...buffers];
}
