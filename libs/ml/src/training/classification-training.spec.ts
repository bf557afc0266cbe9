import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import {
  knownArchitectures,
  getArchitecture,
  UnknownArchitectureError,
} from '../architectures/architecture-registry.js';
import type { RawImage } from '../images/image-decoding.js';
import { loadModel } from '../inference/loaded-model.js';
import { SeededRandom } from '../random/seeded-random.js';
import { barsImage, colouredSquareImage, type Rgb } from '../testing/synthetic-images.js';
import { train } from './training-loop.js';
import {
  TrainingCancelledError,
  type ClassificationValidation,
  type BatchReport,
  type EpochReport,
  type TrainingDataset,
  type TrainingResult,
} from './training-types.js';

const COLOURS: Rgb[] = [
  [220, 30, 30],
  [30, 190, 30],
  [30, 30, 220],
];

function colourDataset(count: number, seed: number): TrainingDataset {
  const random = new SeededRandom(seed);
  return {
    task: 'classification',
    labels: ['red', 'green', 'blue'],
    examples: Array.from({ length: count }, (_, i) => ({
      image: colouredSquareImage(COLOURS[i % 3], 16, random),
      label: i % 3,
    })),
  };
}

async function png(image: RawImage): Promise<Uint8Array> {
  return new Uint8Array(
    await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels } })
      .png()
      .toBuffer(),
  );
}

const fastConfig = { imageSize: 16, epochs: 6, batchSize: 16, learningRate: 0.005, seed: 3 };

function classificationValidation(result: TrainingResult): ClassificationValidation {
  if (result.validation?.task !== 'classification') throw new Error('expected classification validation results');
  return result.validation;
}

describe('training a classifier', () => {
  it('learns coloured squares from encoded images and predicts with the saved model', async () => {
    const dataset = colourDataset(120, 1);
    // Half of the images arrive as PNG bytes, as uploads would.
    for (const example of dataset.examples.slice(0, 60)) example.image = await png(example.image as RawImage);
    const reports: EpochReport[] = [];
    const batches: BatchReport[] = [];
    const result = await train(dataset, fastConfig, {
      onEpochEnd: (report) => void reports.push(report),
      onBatchEnd: (report) => void batches.push(report),
    });

    expect(result.architecture).toBe('small-cnn');
    expect(['tensorflow', 'wasm', 'cpu']).toContain(result.backend);
    expect(result.trainCount + result.validationCount).toBe(120);
    expect(result.validationCount).toBe(24);
    expect(reports).toEqual(result.history);
    expect(reports.map((report) => report.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(reports[5].loss).toBeLessThan(reports[0].loss);
    expect(reports[5].imagesPerSecond).toBeGreaterThan(0);
    // 96 training images in batches of 16: six batches an epoch, each reported as it ends.
    expect(batches.filter((report) => report.epoch === 1).map((report) => report.batch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(batches).toHaveLength(36);
    expect(batches.every((report) => report.batches === 6 && report.imagesPerSecond > 0)).toBe(true);
    // What a watcher is told about the run's size: 16 photos a step, 96 training and 24 validation images.
    expect(
      batches.every(
        (report) => report.batchSize === 16 && report.trainingImages === 96 && report.validationImages === 24,
      ),
    ).toBe(true);
    expect(result.validation?.task).toBe('classification');
    expect(classificationValidation(result).metrics.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(classificationValidation(result).metrics.perLabel.map((m) => m.support)).toEqual([8, 8, 8]);

    const model = await loadModel(result.model);
    try {
      const fresh = colouredSquareImage(COLOURS[2], 24, new SeededRandom(99));
      const predictions = await model.predict(await png(fresh));
      expect(predictions.map((p) => p.label).sort()).toEqual(['blue', 'green', 'red']);
      expect(predictions[0].label).toBe('blue');
      expect(predictions[0].probability).toBeGreaterThanOrEqual(predictions[1].probability);
      expect(predictions.reduce((sum, p) => sum + p.probability, 0)).toBeCloseTo(1, 4);
      expect(await model.predict(fresh, { threshold: 0.999999 })).toHaveLength(
        predictions[0].probability >= 0.999999 ? 1 : 0,
      );
    } finally {
      model.dispose();
    }
  });

  it('learns horizontal versus vertical bars in grayscale', async () => {
    const random = new SeededRandom(5);
    const orientations = ['horizontal', 'vertical'] as const;
    const dataset: TrainingDataset = {
      task: 'classification',
      labels: [...orientations],
      examples: Array.from({ length: 80 }, (_, i) => ({
        image: barsImage(orientations[i % 2], 20, random),
        label: i % 2,
      })),
    };
    const result = await train(dataset, {
      ...fastConfig,
      channels: 1,
      augmentation: { horizontalFlip: false, cropScale: 0.9, brightness: 0.1 },
    });
    expect(JSON.parse(result.model.modelJson).userDefinedMetadata.diyml).toMatchObject({
      channels: 1,
      labels: ['horizontal', 'vertical'],
    });
    expect(classificationValidation(result).metrics.accuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('is deterministic for the same data, config and seed', async () => {
    const config = { ...fastConfig, epochs: 2 };
    const first = await train(colourDataset(48, 2), config);
    const second = await train(colourDataset(48, 2), config);
    expect(
      second.history.map(({ loss, accuracy, valLoss, valAccuracy }) => ({ loss, accuracy, valLoss, valAccuracy })),
    ).toEqual(
      first.history.map(({ loss, accuracy, valLoss, valAccuracy }) => ({ loss, accuracy, valLoss, valAccuracy })),
    );
    expect(second.validation).toEqual(first.validation);
    expect(Buffer.from(second.model.weights).equals(Buffer.from(first.model.weights))).toBe(true);
    expect(second.model.modelJson).toBe(first.model.modelJson);

    const otherSeed = await train(colourDataset(48, 2), { ...config, seed: 4 });
    expect(Buffer.from(otherSeed.model.weights).equals(Buffer.from(first.model.weights))).toBe(false);
  });

  it('stops early when the validation loss stops improving', async () => {
    const result = await train(colourDataset(30, 3), {
      ...fastConfig,
      epochs: 20,
      learningRate: 1e-9,
      earlyStopping: { patience: 2, minDelta: 0.01 },
    });
    expect(result.stoppedEarly).toBe(true);
    expect(result.history).toHaveLength(3);
    expect(result.bestEpoch).toBe(1);
  });

  it('stops between batches when cancelled', async () => {
    const controller = new AbortController();
    const run = train(
      colourDataset(30, 4),
      { ...fastConfig, epochs: 20 },
      { signal: controller.signal, onEpochEnd: () => controller.abort() },
    );
    await expect(run).rejects.toThrow(TrainingCancelledError);
    await expect(run).rejects.toMatchObject({ completedEpochs: 1 });
  });

  it('refuses an unknown architecture, naming the known ones', async () => {
    expect(() => getArchitecture('resnet-9000')).toThrow(
      new UnknownArchitectureError('resnet-9000', [
        'small-cnn',
        'backbone-classifier',
        'transfer',
        'tiny-detector',
        'backbone-detector',
      ]),
    );
    expect(() => getArchitecture('resnet-9000')).toThrow(
      "unknown architecture 'resnet-9000'; known: small-cnn, backbone-classifier, transfer, tiny-detector, backbone-detector",
    );
    await expect(train(colourDataset(6, 1), { architecture: 'resnet-9000' })).rejects.toThrow(UnknownArchitectureError);
    expect(
      knownArchitectures()
        .filter((architecture) => architecture.isDefault)
        .map((architecture) => architecture.id),
    ).toEqual(['small-cnn', 'backbone-detector']);
  });

  it('refuses a configuration it cannot train with', async () => {
    await expect(train(colourDataset(6, 1), { epochs: 0, learningRate: -1 })).rejects.toThrow(
      'cannot train: learningRate must be positive; epochs must be a positive integer',
    );
    const unlabeled = colourDataset(6, 1);
    unlabeled.examples[4].label = 3;
    delete unlabeled.examples[5].label;
    await expect(train(unlabeled, fastConfig)).rejects.toThrow('examples 4, 5 have a label outside [0, 3)');
  });
});
