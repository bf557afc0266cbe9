import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend-selection.js';
import type { LabeledBox } from '../boxes/box.js';
import { imageContentHash } from '../backbones/embeddings.js';
import type { RawImage } from '../images/image-decoding.js';
import { SeededRandom } from '../random/seeded-random.js';
import { tinyBackboneDescriptor, tinyBackboneModel } from '../testing/tiny-backbone.js';
import { squaresScene, type Rgb } from '../testing/synthetic-images.js';
import { train } from '../training/training-loop.js';
import { FeatureMapHead } from './feature-map-head.js';
import { loadModel } from './loaded-model.js';

const COLOURS: Rgb[] = [
  [220, 30, 30],
  [30, 30, 220],
];
const SIDE = 64;

/** A scene half as wide again as it is high (grey on the right), so letterboxing pads it and boxes move. */
function widened({ image, boxes }: { image: RawImage; boxes: LabeledBox[] }): { image: RawImage; boxes: LabeledBox[] } {
  const width = (image.width * 3) / 2;
  const pixels = new Uint8Array(width * image.height * 3).fill(128);
  for (let y = 0; y < image.height; y++)
    pixels.set(image.pixels.subarray(y * image.width * 3, (y + 1) * image.width * 3), y * width * 3);
  return {
    image: { pixels, width, height: image.height, channels: 3 },
    boxes: boxes.map((box) => ({ ...box, x: (box.x * 2) / 3, width: (box.width * 2) / 3 })),
  };
}

describe('predicting from cached feature maps with the head of a backbone detector', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('gives the boxes and scores the whole model gives from the images', async () => {
    const random = new SeededRandom(8);
    const examples = Array.from({ length: 24 }, (_, i) => {
      const scene = squaresScene(COLOURS, SIDE, 1 + (i % 2), random);
      return i % 3 === 0 ? widened(scene) : scene;
    });
    const result = await train(
      { task: 'detection', labels: ['red', 'blue'], examples },
      {
        architecture: 'backbone-detector',
        backbone: tinyBackboneDescriptor('tiny', { kind: 'model', model: await tinyBackboneModel() }),
        epochs: 2,
        batchSize: 8,
        seed: 3,
        backend: 'wasm',
      },
    );
    const images = examples.slice(0, 9).map((example) => example.image);
    const maps = images.map((image) => result.featureMaps!.vectors.get(imageContentHash(image))!.get('identity')!);

    const head = await FeatureMapHead.load(result.model);
    const model = await loadModel(result.model, { backend: 'wasm', runtime: 'tfjs' });
    try {
      expect(head.reads(result.featureMaps!.space, result.featureMaps!.dimension)).toBe(true);
      const options = { threshold: 0.05, maxResults: 100 };
      const fromMaps = await head.predict(
        images.map((image, index) => ({ image, maps: maps[index] })),
        options,
      );
      const fromImages = await model.predictBatch(images, options);
      expect(fromImages.flat().length).toBeGreaterThan(0);
      expect(fromMaps.map((boxes) => boxes.map((box) => box.label))).toEqual(
        fromImages.map((boxes) => boxes.map((box) => box.label)),
      );
      fromMaps.forEach((boxes, image) =>
        boxes.forEach((box, index) => {
          const expected = fromImages[image][index];
          expect(box.probability).toBeCloseTo(expected.probability, 5);
          for (const side of ['x', 'y', 'width', 'height'] as const)
            expect(box.box![side]).toBeCloseTo(expected.box![side], 5);
        }),
      );
      // The head of the loaded whole model (sharing its weights) is the same head.
      const shared = await model.featureMapHead();
      expect(
        await shared.predict(
          images.map((image, index) => ({ image, maps: maps[index] })),
          options,
        ),
      ).toEqual(fromMaps);
      shared.dispose();
      // On onnxruntime (as the MobileNetV2 head runs) the same within float rounding.
      const onOnnx = await FeatureMapHead.load(result.model, { runtime: 'onnxruntime' });
      try {
        expect(onOnnx.runtime).toBe('onnxruntime');
        const fromOnnx = await onOnnx.predict(
          images.map((image, index) => ({ image, maps: maps[index] })),
          options,
        );
        fromOnnx.forEach((boxes, image) =>
          boxes
            .slice(0, 3)
            .forEach((box, index) => expect(box.probability).toBeCloseTo(fromMaps[image][index].probability, 4)),
        );
      } finally {
        onOnnx.dispose();
      }
      await expect(head.predict([{ image: images[0], maps: new Float32Array(head.mapLength + 1) }])).rejects.toThrow(
        /the head takes/,
      );
    } finally {
      head.dispose();
      model.dispose();
    }
  }, 120_000);

  it('refuses a model that is not a backbone detector', async () => {
    const random = new SeededRandom(4);
    const result = await train(
      {
        task: 'detection',
        labels: ['red', 'blue'],
        examples: Array.from({ length: 8 }, () => squaresScene(COLOURS, 32, 1, random)),
      },
      { architecture: 'tiny-detector', imageSize: 32, epochs: 1, seed: 1, backend: 'wasm', validationSplit: 0 },
    );
    await expect(FeatureMapHead.load(result.model)).rejects.toThrow(/backbone-detector/);
  });
});
