import { beforeAll, describe, expect, it } from 'vitest';
import * as tfl from '@tensorflow/tfjs-layers';
import { getArchitecture } from '../architectures/architecture-registry.js';
import { selectBackend } from '../backend/backend-selection.js';
import type { RawImage } from '../images/image-decoding.js';
import { multiplyAddsPerImage } from '../models/model-cost.js';
import { serializeModel, type ModelMetadata, type SerializedModel } from '../models/model-serialization.js';
import { SeededRandom } from '../random/seeded-random.js';
import { colouredSquareImage, squareScene } from '../testing/synthetic-images.js';
import { loadModel, type Prediction } from './loaded-model.js';

async function builtModel(
  architecture: string,
  task: ModelMetadata['task'],
  size: number,
  fit: ModelMetadata['fit'],
): Promise<SerializedModel> {
  const built = await getArchitecture(architecture, task).build({
    imageSize: { width: size, height: size },
    channels: 3,
    labelCount: 3,
    seed: 4,
  });
  const serialized = await serializeModel(built.model, {
    format: 'diyml',
    version: 1,
    architecture,
    task,
    labels: ['red', 'green', 'blue'],
    imageSize: built.imageSize,
    channels: 3,
    fit,
    inputRange: [0, 1],
  });
  built.model.dispose();
  return serialized;
}

/** Predictions from tfjs and from onnxruntime for the same images, after checking which runtime each used. */
async function bothRuntimes(
  serialized: SerializedModel,
  images: RawImage[],
): Promise<[Prediction[][], Prediction[][]]> {
  const onTfjs = await loadModel(serialized, { runtime: 'tfjs' });
  const onOnnx = await loadModel(serialized, { runtime: 'onnxruntime' });
  expect([onTfjs.runtime, onOnnx.runtime]).toEqual(['tfjs', 'onnxruntime']);
  const results: [Prediction[][], Prediction[][]] = [
    await onTfjs.predictBatch(images),
    await onOnnx.predictBatch(images),
  ];
  onTfjs.dispose();
  onOnnx.dispose();
  return results;
}

describe('LoadedModel on onnxruntime', () => {
  beforeAll(async () => {
    await selectBackend();
  });

  it('classifies as tfjs does', async () => {
    const random = new SeededRandom(3);
    const images = [
      colouredSquareImage([220, 30, 30], 24, random),
      colouredSquareImage([30, 30, 220], 24, random),
      colouredSquareImage([30, 200, 30], 24, random),
    ];
    const [expected, actual] = await bothRuntimes(
      await builtModel('small-cnn', 'classification', 24, 'resize'),
      images,
    );
    actual.forEach((predictions, index) => {
      expect(predictions.map((prediction) => prediction.label)).toEqual(
        expected[index].map((prediction) => prediction.label),
      );
      predictions.forEach((prediction, rank) =>
        expect(prediction.probability).toBeCloseTo(expected[index][rank].probability, 5),
      );
    });
  });

  it('detects the boxes tfjs detects', async () => {
    const random = new SeededRandom(5);
    const images = [squareScene([[220, 30, 30]], 32, random).image, squareScene([[30, 30, 220]], 32, random).image];
    const [expected, actual] = await bothRuntimes(
      await builtModel('tiny-detector', 'detection', 32, 'letterbox'),
      images,
    );
    expect(expected.flat().length).toBeGreaterThan(0);
    expect(actual.map((predictions) => predictions.length)).toEqual(expected.map((predictions) => predictions.length));
    actual.forEach((predictions, index) =>
      predictions.forEach((prediction, rank) => {
        const reference = expected[index][rank];
        expect(prediction.label).toBe(reference.label);
        expect(prediction.probability).toBeCloseTo(reference.probability, 5);
        for (const side of ['x', 'y', 'width', 'height'] as const)
          expect(prediction.box![side]).toBeCloseTo(reference.box![side], 5);
      }),
    );
  });

  it('chooses onnxruntime by default for a model of 20 million multiply-adds per image or more, tfjs for a smaller one', async () => {
    // Few weights, much work: two convolutions over 64×64 pixels (37 million multiply-adds, 10 thousand weights).
    const input = tfl.input({ shape: [64, 64, 3] });
    const convolved = [16, 32].reduce(
      (x, filters) =>
        tfl.layers
          .conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu' })
          .apply(x) as tfl.SymbolicTensor,
      input,
    );
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(convolved) as tfl.SymbolicTensor;
    const large = tfl.model({
      inputs: input,
      outputs: tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(pooled) as tfl.SymbolicTensor,
    });
    expect(multiplyAddsPerImage(large)).toBe(64 * 64 * (3 * 3 * 3 * 16 + 3 * 3 * 16 * 32) + 32 * 2);
    expect(large.countParams()).toBeLessThan(10_000);
    const serialized = await serializeModel(large, {
      format: 'diyml',
      version: 1,
      architecture: 'small-cnn',
      task: 'classification',
      labels: ['a', 'b'],
      imageSize: { width: 64, height: 64 },
      channels: 3,
      fit: 'resize',
      inputRange: [0, 1],
    });
    large.dispose();
    const onDefault = await loadModel(serialized);
    expect(onDefault.runtime).toBe('onnxruntime');
    const [prediction] = await onDefault.predict(colouredSquareImage([200, 30, 30], 64, new SeededRandom(1)));
    expect(['a', 'b']).toContain(prediction.label);
    onDefault.dispose();

    const small = await loadModel(await builtModel('small-cnn', 'classification', 16, 'resize'));
    expect(small.runtime).toBe('tfjs');
    small.dispose();
  });
});
