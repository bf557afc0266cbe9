import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom, selectBackend, type TrainingConfig, type TrainingDataset, type TrainingResult } from '@diyml/ml';
import { barsDataset, squareScene, type Rgb } from '@diyml/ml/testing/synthetic-images.js';
import { tinyBackboneClassifierConfig } from '@diyml/ml/testing/tiny-backbone.js';
import { trainingThreads, TrainingThread, TrainingThreadCancelled } from './training-thread.js';

const COLOURS: Rgb[] = [
  [220, 30, 30],
  [30, 30, 220],
];

function scenes(count: number, seed: number): TrainingDataset {
  const random = new SeededRandom(seed);
  return {
    task: 'detection',
    labels: ['red', 'blue'],
    examples: Array.from({ length: count }, () => squareScene(COLOURS, 32, random)),
  };
}

const ignoreProgress = { onStarted: async () => undefined, onEpoch: async () => undefined };

/** Trains on a thread of the pool; the dataset is made anew each time, since its images move to the thread. */
function trainOnThread(dataset: () => TrainingDataset, config: Partial<TrainingConfig>): Promise<TrainingResult> {
  return new TrainingThread().run(dataset(), config, ignoreProgress);
}

/** What a reproduction compares: the model's bytes and the metrics. */
function artifacts(result: TrainingResult) {
  return {
    modelJson: result.model.modelJson,
    weights: Buffer.from(result.model.weights).toString('base64'),
    history: result.history.map(({ loss, accuracy, valLoss, valAccuracy }) => ({
      loss,
      accuracy,
      valLoss,
      valAccuracy,
    })),
    validation: result.validation,
  };
}

describe('TrainingThread reuses a warm thread', () => {
  // The tiny backbone is built here, on this thread's backend.
  beforeAll(() => selectBackend());
  afterAll(() => trainingThreads.closeIdle());

  it.each<[string, () => TrainingDataset, () => Promise<Partial<TrainingConfig>>]>([
    ['small-cnn', () => barsDataset(24, 2), async () => ({ imageSize: 16, epochs: 2, batchSize: 8, seed: 3 })],
    [
      'tiny-detector',
      () => scenes(16, 4),
      async () => ({ architecture: 'tiny-detector', imageSize: 32, epochs: 2, batchSize: 8, seed: 2 }),
    ],
    ['backbone-classifier', () => barsDataset(16, 5), () => tinyBackboneClassifierConfig(2)],
  ])(
    '%s: two runs in one reused thread give the model and metrics of a run in a fresh thread, byte for byte',
    async (_, dataset, makeConfig) => {
      const config = await makeConfig();
      await trainingThreads.closeIdle();
      const startedBefore = trainingThreads.started;
      const fresh = await trainOnThread(dataset, config);
      const reused = await trainOnThread(dataset, config);
      const reusedAgain = await trainOnThread(dataset, config);
      // All three ran on the one thread started for the first.
      expect(trainingThreads.started).toBe(startedBefore + 1);
      await trainingThreads.closeIdle();
      const inNewThread = await trainOnThread(dataset, config);
      expect(trainingThreads.started).toBe(startedBefore + 2);

      expect(artifacts(reused)).toEqual(artifacts(fresh));
      expect(artifacts(reusedAgain)).toEqual(artifacts(fresh));
      expect(artifacts(inNewThread)).toEqual(artifacts(fresh));
    },
  );

  it('keeps a thread after a run that completed, closes it after a cancelled one', async () => {
    const config = { imageSize: 16, epochs: 2, batchSize: 4, seed: 3 };
    const completed = new TrainingThread();
    await completed.run(barsDataset(8, 1), config, ignoreProgress);
    const startedBefore = trainingThreads.started;
    // Cancelling a run that is over does not reach the run its thread serves next.
    completed.cancel();
    const next = await trainOnThread(() => barsDataset(8, 1), config);
    expect(next.history).toHaveLength(2);
    expect(trainingThreads.started).toBe(startedBefore);

    const cancelledThread = new TrainingThread();
    const cancelled = cancelledThread.run(
      barsDataset(24, 2),
      { ...config, epochs: 50 },
      {
        ...ignoreProgress,
        onEpoch: async () => cancelledThread.cancel(),
      },
    );
    await expect(cancelled).rejects.toBeInstanceOf(TrainingThreadCancelled);
    const afterCancel = await trainOnThread(() => barsDataset(8, 1), config);
    expect(afterCancel.history).toHaveLength(2);
    expect(trainingThreads.started).toBe(startedBefore + 1);
  });
});
