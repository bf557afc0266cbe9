import { describe, expect, it } from '@jest/globals';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../backend/backend-selection.js';
import { describeImportedBackbone } from '../backbones/imported-backbone.js';
import { iou } from '../boxes/box.js';
import { loadModel } from '../inference/loaded-model.js';
import { serializeModel, type SerializedModel } from '../models/model-serialization.js';
import { SeededRandom } from '../random/seeded-random.js';
import { squaresScene, type Rgb } from '../testing/synthetic-images.js';
import { train } from '../training/training-loop.js';
import type { TrainingDataset } from '../training/training-types.js';

const COLOURS: Rgb[] = [
  [220, 30, 30],
  [30, 30, 220],
];
const SIDE = 96;

/** A tiny random-weight convolutional backbone with feature maps at strides 16 and 32, standing in for MobileNetV2. */
async function tinyBackbone(seed: number): Promise<SerializedModel> {
  await selectBackend();
  const random = new SeededRandom(seed);
  const input = tfl.input({ shape: [SIDE, SIDE, 3] });
  let features = input;
  for (const [block, filters] of [16, 32, 32, 64, 64].entries()) {
    features = tfl.layers
      .conv2d({
        name: `block${block + 1}`,
        filters,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tfl.initializers.heNormal({ seed: random.nextSeed() }),
      })
      .apply(features) as tfl.SymbolicTensor;
  }
  const model = tfl.model({ inputs: input, outputs: features });
  try {
    return await serializeModel(model, {
      format: 'diyml',
      version: 1,
      architecture: 'imported',
      task: 'classification',
      labels: [],
      imageSize: { width: SIDE, height: SIDE },
      channels: 3,
      fit: 'resize',
      inputRange: [0, 1],
    });
  } finally {
    model.dispose();
  }
}

describe('backbone-detector', () => {
  it('learns on a frozen backbone to find several objects per image, each with its label and box', async () => {
    const random = new SeededRandom(5);
    const dataset: TrainingDataset = {
      task: 'detection',
      labels: ['red', 'blue'],
      examples: Array.from({ length: 60 }, () => squaresScene(COLOURS, SIDE, 1 + random.integer(3), random)),
    };
    const result = await train(dataset, {
      architecture: 'backbone-detector',
      backbone: await describeImportedBackbone('tiny-backbone', await tinyBackbone(3)),
      epochs: 12,
      batchSize: 8,
      learningRate: 0.003,
      seed: 4,
    });

    expect(result.architecture).toBe('backbone-detector');
    expect(result.history[result.history.length - 1].loss).toBeLessThan(result.history[0].loss / 2);
    if (result.validation?.task !== 'detection') throw new Error('expected detection validation results');
    expect(result.validation.metrics.map50).toBeGreaterThan(0.6);

    const model = await loadModel(result.model);
    try {
      const scenes = Array.from({ length: 10 }, () =>
        squaresScene(COLOURS, SIDE, 3, new SeededRandom(100 + random.integer(1000))),
      );
      let found = 0;
      for (const scene of scenes) {
        const predictions = await model.predict(scene.image, { threshold: 0.3 });
        found += scene.boxes.filter((box) =>
          predictions.some((p) => p.labelIndex === box.label && iou(p.box!, box) >= 0.5),
        ).length;
      }
      // Three objects in each of ten new scenes: most are found with the right label.
      expect(found).toBeGreaterThanOrEqual(24);
    } finally {
      model.dispose();
    }
  }, 120_000);
});
