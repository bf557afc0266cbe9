import { describe, expect, it } from 'vitest';
import { DomainError } from '@diyml/core/pure';
import { architecturesFor } from './architectures.js';
import {
  defaultTrainingConfig,
  mergeTrainingConfig,
  resolveTrainingConfig,
  type TrainingConfig,
} from './training-config.js';

function errorOf(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
}

const base: TrainingConfig = {
  ...defaultTrainingConfig('classification'),
  epochs: 30,
  earlyStopping: { enabled: true, patience: 4 },
  baseIterationId: null,
  backbone: null,
};

describe('training configuration', () => {
  it('has the original defaults, with image size and architecture by project type', () => {
    expect(defaultTrainingConfig('classification')).toEqual({
      learningRate: 0.001,
      epochs: 10,
      batchSize: 32,
      imageSize: 64,
      architecture: 'auto',
      validationSplit: 0.2,
      augmentation: { horizontalFlip: true, cropScale: 0.85, brightness: 0.15 },
      seed: 42,
      earlyStopping: null,
      baseIterationId: null,
      backbone: null,
      fineTune: 0,
    });
    expect(defaultTrainingConfig('detection')).toMatchObject({ imageSize: 128, architecture: 'backbone-detector' });
    expect(architecturesFor('classification')).toEqual(['auto', 'small-cnn', 'backbone-classifier', 'transfer']);
    expect(architecturesFor('detection')).toEqual(['auto', 'tiny-detector', 'backbone-detector']);
  });

  it('merges iteration overrides onto the project configuration, nested settings one by one', () => {
    const merged = mergeTrainingConfig('classification', base, {
      learningRate: 0.01,
      augmentation: { brightness: 0 },
      earlyStopping: { patience: 2 },
      architecture: 'transfer',
      baseIterationId: '6f1c2a9e-3b7d-4c55-9e0a-2d8f4b1c7a10',
    });
    expect(merged).toEqual({
      ...base,
      learningRate: 0.01,
      architecture: 'transfer',
      baseIterationId: '6f1c2a9e-3b7d-4c55-9e0a-2d8f4b1c7a10',
      augmentation: { horizontalFlip: true, cropScale: 0.85, brightness: 0 },
      earlyStopping: { enabled: true, patience: 2 },
    });
  });

  it('refuses the transfer architecture without a base iteration, and a base that is not a UUID', () => {
    expect(() => mergeTrainingConfig('classification', base, { architecture: 'transfer' })).toThrow(
      expect.objectContaining({ code: 'BASE_MODEL_REQUIRED' }),
    );
    expect(() => mergeTrainingConfig('classification', base, { baseIterationId: 'latest' }, 'trainingConfig')).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        details: [expect.objectContaining({ field: 'trainingConfig.baseIterationId' })],
      }),
    );
  });

  it('fine-tunes nothing by default, and takes 0 to 2 backbone blocks', () => {
    expect(mergeTrainingConfig('classification', base, { fineTune: 2 }).fineTune).toBe(2);
    const refusal = errorOf(() => mergeTrainingConfig('classification', base, { fineTune: 3 }, 'trainingConfig'));
    expect(refusal.details).toEqual([
      { field: 'trainingConfig.fineTune', errors: ['trainingConfig.fineTune must be an integer from 0 to 2'] },
    ]);
  });

  it('keeps the project configuration for no overrides, and turns early stopping off with null', () => {
    expect(mergeTrainingConfig('classification', base, undefined)).toEqual(base);
    expect(mergeTrainingConfig('classification', base, null)).toEqual(base);
    expect(mergeTrainingConfig('classification', base, { earlyStopping: null }).earlyStopping).toBeNull();
  });

  it('turns early stopping on with its default patience when given an empty object', () => {
    expect(resolveTrainingConfig('detection', { earlyStopping: {} }).earlyStopping).toEqual({
      enabled: true,
      patience: 5,
    });
  });

  it('names every bad field, with its range and the prefix the caller asks for', () => {
    const error = errorOf(() =>
      mergeTrainingConfig(
        'classification',
        base,
        {
          learningRate: 2,
          epochs: 1.5,
          batchSize: '32',
          imageSize: 8,
          validationSplit: -0.1,
          seed: null,
          augmentation: { horizontalFlip: 'yes', cropScale: 0.1, tint: 1 },
          earlyStopping: { patience: 0 },
          optimizer: 'adam',
        },
        'trainingConfig',
      ),
    );
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.kind).toBe('validation');
    // For a person: how many fields, then each problem as a sentence.
    expect(error.message).toMatch(
      /^The request has \d+ invalid fields\. trainingConfig\.learningRate must be a number from 0\.000001 to 1\. trainingConfig\.epochs must be an integer from 1 to 500\. /,
    );
    expect(error.details).toEqual([
      {
        field: 'trainingConfig.learningRate',
        errors: ['trainingConfig.learningRate must be a number from 0.000001 to 1'],
      },
      { field: 'trainingConfig.epochs', errors: ['trainingConfig.epochs must be an integer from 1 to 500'] },
      { field: 'trainingConfig.batchSize', errors: ['trainingConfig.batchSize must be an integer from 1 to 1024'] },
      { field: 'trainingConfig.imageSize', errors: ['trainingConfig.imageSize must be an integer from 16 to 512'] },
      {
        field: 'trainingConfig.validationSplit',
        errors: ['trainingConfig.validationSplit must be a number from 0 to 0.9'],
      },
      { field: 'trainingConfig.seed', errors: ['trainingConfig.seed must be an integer from 0 to 2147483647'] },
      {
        field: 'trainingConfig.augmentation.horizontalFlip',
        errors: ['trainingConfig.augmentation.horizontalFlip must be a boolean'],
      },
      {
        field: 'trainingConfig.augmentation.cropScale',
        errors: ['trainingConfig.augmentation.cropScale must be a number from 0.5 to 1'],
      },
      {
        field: 'trainingConfig.augmentation.tint',
        errors: [
          'trainingConfig.augmentation.tint is not a field of trainingConfig.augmentation, which takes: brightness, cropScale, horizontalFlip',
        ],
      },
      {
        field: 'trainingConfig.earlyStopping.patience',
        errors: ['trainingConfig.earlyStopping.patience must be an integer from 1 to 100'],
      },
      {
        field: 'trainingConfig.optimizer',
        errors: [
          'trainingConfig.optimizer is not a field of trainingConfig, which takes: architecture, augmentation, ' +
            'backbone, baseIterationId, batchSize, earlyStopping, epochs, fineTune, imageSize, learningRate, seed, ' +
            'validationSplit',
        ],
      },
    ]);
  });

  it('refuses a configuration that is not an object', () => {
    expect(errorOf(() => resolveTrainingConfig('classification', [1])).details).toEqual([
      { field: 'trainingConfig', errors: ['trainingConfig must be an object'] },
    ]);
  });

  it('refuses an unknown or mismatched architecture, listing the ones the project type knows', () => {
    const unknown = errorOf(() => resolveTrainingConfig('classification', { architecture: 'resnet-9000' }));
    expect(unknown.code).toBe('UNKNOWN_ARCHITECTURE');
    expect(unknown.details).toEqual([
      {
        field: 'architecture',
        errors: [expect.stringContaining('auto, small-cnn, backbone-classifier, transfer')],
        known: ['auto', 'small-cnn', 'backbone-classifier', 'transfer'],
      },
    ]);
    const mismatched = errorOf(() =>
      mergeTrainingConfig(
        'detection',
        defaultTrainingConfig('detection'),
        { architecture: 'small-cnn' },
        'trainingConfig',
      ),
    );
    expect(mismatched.code).toBe('UNKNOWN_ARCHITECTURE');
    expect(mismatched.details).toEqual([
      {
        field: 'trainingConfig.architecture',
        errors: [expect.any(String)],
        known: ['auto', 'tiny-detector', 'backbone-detector'],
      },
    ]);
  });
});
