import { beforeAll, describe, expect, it } from 'vitest';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import {
  type Box,
  boxFromLetterbox,
  describeImportedBackbone,
  iou,
  ModelProto,
  loadModel,
  prepareImage,
  type RawImage,
  SeededRandom,
  selectBackend,
  serializeModel,
  type SerializedModel,
  train,
  type TrainingDataset,
} from '@diyml/ml';
import { barsImage, squaresScene, type Rgb } from '@diyml/ml/testing/synthetic-images.js';
import { tinyBackboneDescriptor, tinyBackboneModel } from '@diyml/ml/testing/tiny-backbone.js';
import { packModel } from './model-archive.js';
import { exportOnnx } from './onnx-export.js';

const DETECTOR_SIDE = 64;
const COLOURS: Rgb[] = [
  [220, 30, 30],
  [30, 30, 220],
];

/** A tiny random-weight backbone with maps at strides 16 and 32, as backbone-detector reads MobileNetV2's. */
async function tinyDetectionBackbone(): Promise<SerializedModel> {
  const random = new SeededRandom(3);
  const input = tfl.input({ shape: [DETECTOR_SIDE, DETECTOR_SIDE, 3] });
  let features = input;
  for (const [block, filters] of [8, 16, 16, 32, 32].entries()) {
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
    const imageSize = { width: DETECTOR_SIDE, height: DETECTOR_SIDE };
    return await serializeModel(model, {
      format: 'diyml',
      version: 1,
      architecture: 'imported',
      task: 'classification',
      labels: [],
      imageSize,
      channels: 3,
      fit: 'resize',
      inputRange: [0, 1],
    });
  } finally {
    model.dispose();
  }
}

function docString(onnx: Uint8Array): string {
  return (ModelProto.toObject(ModelProto.decode(onnx)) as { docString: string }).docString;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The best box of a backbone-detector's raw output, decoded as the exported file's doc_string says, written out here. */
function topBoxAsDocumented(
  output: Float32Array,
  [, rows, columns, depth]: readonly number[],
  threshold: number,
): { label: number; probability: number; box: Box } {
  const labelCount = depth - 5;
  const distance = (value: number) => Math.exp(Math.min(4, Math.max(-4, value)));
  const pairs: { label: number; probability: number; box: Box }[] = [];
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const cell = output.subarray((row * columns + column) * depth, (row * columns + column + 1) * depth);
      const [centreX, centreY] = [(column + 0.5) / columns, (row + 0.5) / rows];
      const [left, top, right, bottom] = [
        Math.max(0, centreX - distance(cell[labelCount]) / columns),
        Math.max(0, centreY - distance(cell[labelCount + 1]) / rows),
        Math.min(1, centreX + distance(cell[labelCount + 2]) / columns),
        Math.min(1, centreY + distance(cell[labelCount + 3]) / rows),
      ];
      for (let label = 0; label < labelCount; label++) {
        const probability = Math.sqrt(sigmoid(cell[label]) * sigmoid(cell[labelCount + 4]));
        if (probability < threshold || right <= left || bottom <= top) continue;
        pairs.push({ label, probability, box: { x: left, y: top, width: right - left, height: bottom - top } });
      }
    }
  }
  const best = pairs.reduce((a, b) => (b.probability > a.probability ? b : a));
  const voters = pairs.filter((pair) => pair.label === best.label && (pair === best || iou(pair.box, best.box) > 0.45));
  const weight = voters.reduce((sum, pair) => sum + pair.probability, 0);
  const mean = (edge: (box: Box) => number) =>
    voters.reduce((sum, pair) => sum + pair.probability * edge(pair.box), 0) / weight;
  const [left, top, right, bottom] = [
    mean((box) => box.x),
    mean((box) => box.y),
    mean((box) => box.x + box.width),
    mean((box) => box.y + box.height),
  ];
  return { ...best, box: { x: left, y: top, width: right - left, height: bottom - top } };
}

describe('ONNX export of backbone iterations: onnxruntime predicts what diyml predicts', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('backbone-classifier: the same top label on every test image, probabilities within float rounding', async () => {
    const random = new SeededRandom(1);
    const dataset: TrainingDataset = {
      task: 'classification',
      labels: ['horizontal', 'vertical'],
      examples: Array.from({ length: 24 }, (_, i) => ({
        image: barsImage(i % 2 === 0 ? 'horizontal' : 'vertical', 40, random),
        label: i % 2,
      })),
    };
    const backbone = tinyBackboneDescriptor('tiny', { kind: 'model', model: await tinyBackboneModel() });
    const result = await train(dataset, {
      architecture: 'backbone-classifier',
      backbone,
      epochs: 2,
      seed: 5,
      backend: 'wasm',
    });
    const diyml = await loadModel(result.model, { runtime: 'tfjs' });
    const session = await ort.InferenceSession.create(await exportOnnx(packModel(result.model), dataset.labels));
    try {
      const testImages = Array.from({ length: 12 }, (_, i) =>
        barsImage(i % 3 === 0 ? 'horizontal' : 'vertical', 36 + i, random),
      );
      for (const image of testImages) {
        const [expected] = await diyml.predict(image);
        const prepared = await prepareImage(image, diyml.inputSpec);
        const input = Float32Array.from(prepared.pixels, (value) => value / 255);
        const outputs = await session.run({
          [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 32, 32, 3]),
        });
        const probabilities = outputs[session.outputNames[0]].data as Float32Array;
        const top = probabilities.indexOf(Math.max(...probabilities));
        expect(diyml.labels[top]).toBe(expected.label);
        expect(probabilities[top]).toBeCloseTo(expected.probability, 4);
      }
    } finally {
      diyml.dispose();
      await session.release();
    }
  }, 60_000);

  it('backbone-detector: its raw head decoded as the doc_string says gives the top box of the same label on every test image', async () => {
    const random = new SeededRandom(5);
    const dataset: TrainingDataset = {
      task: 'detection',
      labels: ['red', 'blue'],
      examples: Array.from({ length: 12 }, () => squaresScene(COLOURS, DETECTOR_SIDE, 1 + random.integer(2), random)),
    };
    const backbone = await describeImportedBackbone('tiny-detection-backbone', await tinyDetectionBackbone());
    const result = await train(dataset, {
      architecture: 'backbone-detector',
      backbone,
      epochs: 1,
      batchSize: 8,
      seed: 4,
      backend: 'wasm',
      augmentation: false,
    });
    const diyml = await loadModel(result.model, { runtime: 'tfjs' });
    const onnx = await exportOnnx(packModel(result.model), dataset.labels);
    expect(docString(onnx)).toContain('the raw anchor-free head');
    const session = await ort.InferenceSession.create(onnx);
    const options = { threshold: 0, overlapThreshold: 0.45, maxResults: 10 };
    try {
      const testImages: RawImage[] = Array.from(
        { length: 8 },
        () => squaresScene(COLOURS, DETECTOR_SIDE + 16, 2, random).image,
      );
      for (const image of testImages) {
        const [expected] = await diyml.predict(image, options);
        const prepared = await prepareImage(image, diyml.inputSpec);
        const input = Float32Array.from(prepared.pixels, (value) => value / 255);
        const outputs = await session.run({
          [session.inputNames[0]]: new ort.Tensor('float32', input, [1, DETECTOR_SIDE, DETECTOR_SIDE, 3]),
        });
        const output = outputs[session.outputNames[0]];
        const top = topBoxAsDocumented(output.data as Float32Array, output.dims as number[], options.threshold);
        expect(diyml.labels[top.label]).toBe(expected.label);
        expect(top.probability).toBeCloseTo(expected.probability, 3);
        expect(iou(boxFromLetterbox(top.box, prepared.transform), expected.box!)).toBeGreaterThanOrEqual(0.99);
      }
    } finally {
      diyml.dispose();
      await session.release();
    }
  }, 120_000);
});
