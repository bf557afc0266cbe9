import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../backend/backend-selection.js';
import * as tf from '@tensorflow/tfjs-core';
import { describeImportedBackbone } from '../backbones/imported-backbone.js';
import { loadBackbone } from '../backbones/load-backbone.js';
import { backboneDetectorArchitecture } from './backbone-detector.architecture.js';
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
async function tinyBackbone(seed: number, side = SIDE): Promise<SerializedModel> {
  await selectBackend();
  const random = new SeededRandom(seed);
  const input = tfl.input({ shape: [side, side, 3] });
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
      imageSize: { width: side, height: side },
      channels: 3,
      fit: 'resize',
      inputRange: [0, 1],
    });
  } finally {
    model.dispose();
  }
}

/** A scene as a PNG photo half as tall again (grey below it), which the detector letterboxes: its boxes follow. */
async function tallPhoto({ image, boxes }: ReturnType<typeof squaresScene>): Promise<TrainingDataset['examples'][0]> {
  const { pixels, width, height, channels } = image;
  const png = await sharp(pixels, { raw: { width, height, channels } })
    .extend({ bottom: height / 2, background: { r: 128, g: 128, b: 128 } })
    .png()
    .toBuffer();
  return {
    image: new Uint8Array(png),
    boxes: boxes.map((box) => ({ ...box, y: (box.y * 2) / 3, height: (box.height * 2) / 3 })),
  };
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

  it("trains on cached feature maps exactly as on computed ones: a second run with the first one's maps computes none and gives the same model", async () => {
    const random = new SeededRandom(8);
    const dataset: TrainingDataset = {
      task: 'detection',
      labels: ['red', 'blue'],
      examples: await Promise.all(
        Array.from({ length: 12 }, () => tallPhoto(squaresScene(COLOURS, SIDE, 1 + random.integer(2), random))),
      ),
    };
    const config = {
      architecture: 'backbone-detector',
      backbone: await describeImportedBackbone('tiny-backbone', await tinyBackbone(3)),
      epochs: 2,
      batchSize: 4,
      seed: 4,
    };
    const first = await train(dataset, config);
    // 10 training scenes as they are and in 3 augmented views, 2 validation scenes as they are.
    expect([first.featureMaps?.computed, first.featureMaps?.reused]).toEqual([10 * 4 + 2, 0]);

    const again = await train(dataset, { ...config, embeddings: [first.featureMaps!] });
    expect([again.featureMaps?.computed, again.featureMaps?.reused]).toEqual([0, 42]);
    expect(Buffer.from(again.model.weights as Uint8Array).equals(Buffer.from(first.model.weights as Uint8Array))).toBe(
      true,
    );
    // The second run decodes none of the photos: it places their boxes from the photos' headers, as decoding did.
    expect(again.validation).toEqual(first.validation);
  }, 120_000);

  it('keeps a run on many photos bounded: an epoch takes at most 20 steps, and past 800 training photos each caches fewer augmented views', async () => {
    const random = new SeededRandom(9);
    // What is counted does not depend on the image size: 32 px photos and backbone cost a ninth of 96 px ones.
    const side = 32;
    const dataset: TrainingDataset = {
      task: 'detection',
      labels: ['red', 'blue'],
      examples: Array.from({ length: 1250 }, () => squaresScene(COLOURS, side, 1, random)),
    };
    const batchesPerEpoch = new Set<number>();
    const result = await train(
      dataset,
      {
        architecture: 'backbone-detector',
        backbone: await describeImportedBackbone('tiny-backbone', await tinyBackbone(3, side)),
        epochs: 1,
        seed: 4,
      },
      { onBatchEnd: (report) => batchesPerEpoch.add(report.batches) },
    );

    // 1,000 training photos in batches of 32 would be 32 steps an epoch.
    expect([...batchesPerEpoch]).toEqual([20]);
    // 1,000 training photos as they are and in 2 augmented views (3 views would pass 3,200), 250 validation photos.
    expect([result.trainCount, result.featureMaps?.computed]).toEqual([1000, 1000 * 3 + 250]);
    // Each epoch validates on 160 of the 250 validation photos (one for every 4 it trains on); the run's validation
    // covers them all.
    if (result.validation?.task !== 'detection') throw new Error('expected detection validation results');
    expect(result.validation.samples).toHaveLength(250);
  }, 120_000);

  it('combines the cached layer maps into what the frozen extractor computes from the image', async () => {
    const backbone = await loadBackbone(await describeImportedBackbone('tiny-backbone', await tinyBackbone(3)), {
      runnerFactory: 'tfjs',
    });
    const built = await backboneDetectorArchitecture.build({
      imageSize: { width: SIDE, height: SIDE },
      channels: 3,
      labelCount: 2,
      seed: 1,
      backbone,
    });
    try {
      const image = tf.randomUniform([1, SIDE, SIDE, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const maps = backbone.featureMaps(image, built.featureMaps!.layers);
      const joined = new Float32Array(
        (await Promise.all(maps.map((map) => map.data()))).flatMap((values) => Array.from(values)),
      );
      const expected = await (built.frozenFeatures!.predict(image) as tf.Tensor).data();
      const combined = new Float32Array(expected.length);
      built.featureMaps!.combine(joined, combined);
      expect(Array.from(combined)).toEqual(Array.from(expected));
      tf.dispose([image, ...maps]);
    } finally {
      // The detector's layers beside the backbone's are left to the test process; disposing both would dispose the backbone's twice.
      backbone.dispose();
    }
  });
});
