import { describe, expect, it } from 'vitest';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import sharp, { type Sharp } from 'sharp';
import { DomainError } from '@diyml/core/pure';
import {
  iou,
  loadModel,
  ModelProto,
  SeededRandom,
  selectBackend,
  serializeModel,
  train,
  type TrainingDataset,
} from '@diyml/ml';
import { squaresScene, type Rgb } from '@diyml/ml/testing/synthetic-images.js';
import { packModel } from './model-archive.js';
import { exportOnnx } from './onnx-export.js';

describe('ONNX export of a stored model', () => {
  it('refuses a model with a layer ONNX export cannot translate, naming the layer (422 MODEL_NOT_EXPORTABLE)', async () => {
    await selectBackend();
    const input = tfl.input({ shape: [4, 4, 3] });
    const swapped = tfl.layers.permute({ dims: [2, 1, 3], name: 'swap_axes' }).apply(input) as tfl.SymbolicTensor;
    const probabilities = tfl.layers
      .dense({ units: 2, activation: 'softmax' })
      .apply(tfl.layers.flatten().apply(swapped)) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: probabilities });
    const zip = packModel(
      await serializeModel(model, {
        format: 'diyml',
        version: 1,
        architecture: 'small-cnn',
        task: 'classification',
        labels: ['a', 'b'],
        imageSize: { width: 4, height: 4 },
        channels: 3,
        fit: 'resize',
        inputRange: [0, 1],
      }),
    );
    model.dispose();
    const refusal = await exportOnnx(zip, ['a', 'b']).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(DomainError);
    expect(refusal).toMatchObject({
      kind: 'unprocessable',
      code: 'MODEL_NOT_EXPORTABLE',
      details: { layerType: 'Permute', layerName: 'swap_axes' },
    });
    expect((refusal as DomainError).message).toContain("cannot convert layer 'swap_axes' of type Permute to ONNX");
  });

  it("says how to prepare a phone photo (turned upright by its EXIF orientation, colours through its ICC profile), which then scores as diyml's prediction does", async () => {
    await selectBackend();
    const random = new SeededRandom(2);
    const input = tfl.input({ shape: [8, 8, 3] });
    const features = tfl.layers
      .conv2d({
        filters: 4,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tfl.initializers.heNormal({ seed: random.nextSeed() }),
      })
      .apply(input) as tfl.SymbolicTensor;
    const probabilities = tfl.layers
      .dense({
        units: 2,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.heNormal({ seed: random.nextSeed() }),
      })
      .apply(tfl.layers.flatten().apply(features)) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: probabilities });
    const serialized = await serializeModel(model, {
      format: 'diyml',
      version: 1,
      architecture: 'small-cnn',
      task: 'classification',
      labels: ['top bright', 'left bright'],
      imageSize: { width: 8, height: 8 },
      channels: 3,
      fit: 'resize',
      inputRange: [0, 1],
    });
    model.dispose();
    const onnx = await exportOnnx(packModel(serialized), ['top bright', 'left bright']);
    const { docString } = ModelProto.toObject(ModelProto.decode(onnx)) as { docString: string };
    expect(docString).toContain('turned upright by its EXIF orientation');
    expect(docString).toContain('Lanczos-3');
    expect(docString).toContain('converted to sRGB by its embedded ICC profile');

    // A portrait phone photo: stored sideways (bright top rows), with EXIF orientation 6 (turn 90° clockwise to view).
    const stored = Buffer.alloc(32 * 24 * 3, 40);
    stored.fill(230, 0, 8 * 32 * 3);
    const photo = await sharp(stored, { raw: { width: 32, height: 24, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const diyml = await loadModel(serialized, { runtime: 'tfjs' });
    const session = await ort.InferenceSession.create(onnx);
    try {
      const expected = await diyml.predict(photo);
      const scores = async (image: Sharp) => {
        const pixels = await image
          .flatten({ background: '#ffffff' })
          .resize(8, 8, { fit: 'fill', kernel: 'lanczos3' })
          .raw()
          .toBuffer();
        const outputs = await session.run({
          image: new ort.Tensor(
            'float32',
            Float32Array.from(pixels, (value) => value / 255),
            [1, 8, 8, 3],
          ),
        });
        return outputs[session.outputNames[0]].data as Float32Array;
      };
      const asDocumented = await scores(sharp(photo).rotate());
      for (const prediction of expected)
        expect(asDocumented[prediction.labelIndex]).toBeCloseTo(prediction.probability, 5);
      // Left as stored, the photo scores otherwise: the turn is not a detail.
      const sideways = await scores(sharp(photo));
      expect(Math.abs(sideways[0] - asDocumented[0])).toBeGreaterThan(0.01);

      // A Display P3 photo (an iPhone's): its colours read through its ICC profile, as the doc_string says, not as stored.
      const colours = Buffer.from(Array.from({ length: 32 * 24 * 3 }, (_, i) => [230, 40, 60, 30, 200, 50][i % 6]));
      const p3 = await sharp(colours, { raw: { width: 32, height: 24, channels: 3 } })
        .withIccProfile('p3')
        .png()
        .toBuffer();
      const [fromP3] = await diyml.predict(p3);
      const throughProfile = await scores(sharp(p3));
      expect(throughProfile[fromP3.labelIndex]).toBeCloseTo(fromP3.probability, 5);
      const asStored = await scores(sharp(p3, { ignoreIcc: true }));
      expect(Math.abs(asStored[0] - throughProfile[0])).toBeGreaterThan(0.001);
    } finally {
      diyml.dispose();
      await session.release();
    }
  });

  it('says how to letterbox a photo that is not square and place the boxes back on it, which then gives the box diyml gives', async () => {
    const colours: Rgb[] = [
      [220, 30, 30],
      [30, 30, 220],
    ];
    const random = new SeededRandom(8);
    const dataset: TrainingDataset = {
      task: 'detection',
      labels: ['red', 'blue'],
      examples: Array.from({ length: 16 }, () => squaresScene(colours, 32, 1, random)),
    };
    const result = await train(dataset, {
      architecture: 'tiny-detector',
      imageSize: 32,
      epochs: 2,
      batchSize: 8,
      seed: 4,
      augmentation: false,
    });
    const onnx = await exportOnnx(packModel(result.model), dataset.labels);
    const { docString } = ModelProto.toObject(ModelProto.decode(onnx)) as { docString: string };
    expect(docString).toContain('round(w·s)×round(h·s)');
    expect(docString).toContain('x_photo = (x × 32 − left) / cw');

    // A landscape photo, 50×30: a square scene on a wider grey canvas.
    const scene = squaresScene(colours, 30, 1, random).image;
    const photo = await sharp(Buffer.from(scene.pixels), { raw: { width: 30, height: 30, channels: 3 } })
      .extend({ left: 14, right: 6, background: { r: 90, g: 90, b: 90 } })
      .png()
      .toBuffer();
    const diyml = await loadModel(result.model, { runtime: 'tfjs' });
    const session = await ort.InferenceSession.create(onnx);
    try {
      const [expected] = await diyml.predict(photo, { threshold: 0 });
      // As the doc_string says: s = min(32/50, 32/30), 32×19 (round(30 × 0.64)), at (0, floor(13 / 2)).
      const [cw, ch, left, top] = [32, 19, 0, 6];
      const pixels = await sharp(photo)
        .rotate()
        .resize(cw, ch, { fit: 'fill', kernel: 'lanczos3' })
        .extend({ top, bottom: 32 - ch - top, left, right: 32 - cw - left, background: { r: 114, g: 114, b: 114 } })
        .flatten({ background: '#ffffff' })
        .toColourspace('srgb')
        .raw()
        .toBuffer();
      const outputs = await session.run({
        image: new ort.Tensor(
          'float32',
          Float32Array.from(pixels, (value) => value / 255),
          [1, 32, 32, 3],
        ),
      });
      const output = outputs[session.outputNames[0]];
      const [, rows, columns, depth] = output.dims;
      const values = output.data as Float32Array;
      const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
      let best = { probability: -1, label: 0, box: { x: 0, y: 0, width: 0, height: 0 } };
      for (let row = 0; row < rows; row++) {
        for (let column = 0; column < columns; column++) {
          const cell = values.subarray((row * columns + column) * depth, (row * columns + column + 1) * depth);
          const scores = Array.from(cell.subarray(5));
          const label = scores.indexOf(Math.max(...scores));
          const probability =
            sigmoid(cell[0]) / scores.reduce((sum, score) => sum + Math.exp(score - scores[label]), 0);
          if (probability <= best.probability) continue;
          const [centreX, centreY] = [(column + sigmoid(cell[1])) / columns, (row + sigmoid(cell[2])) / rows];
          const [width, height] = [sigmoid(cell[3]), sigmoid(cell[4])];
          const [x0, y0] = [Math.max(0, centreX - width / 2), Math.max(0, centreY - height / 2)];
          const [x1, y1] = [Math.min(1, centreX + width / 2), Math.min(1, centreY + height / 2)];
          // Back on the photo, as the doc_string says (and within it).
          const [px0, px1] = [x0, x1].map((x) => Math.min(1, Math.max(0, (x * 32 - left) / cw)));
          const [py0, py1] = [y0, y1].map((y) => Math.min(1, Math.max(0, (y * 32 - top) / ch)));
          best = { probability, label, box: { x: px0, y: py0, width: px1 - px0, height: py1 - py0 } };
        }
      }
      expect(dataset.labels[best.label]).toBe(expected.label);
      expect(best.probability).toBeCloseTo(expected.probability, 4);
      expect(iou(best.box, expected.box!)).toBeGreaterThanOrEqual(0.99);
    } finally {
      diyml.dispose();
      await session.release();
    }
  }, 60_000);

  it('says how a colour photo becomes the grey a one-channel model takes (luminance in linear light), which then scores as diyml does', async () => {
    await selectBackend();
    const random = new SeededRandom(6);
    const input = tfl.input({ shape: [8, 8, 1] });
    const logits = tfl.layers
      .dense({ units: 3, kernelInitializer: tfl.initializers.heNormal({ seed: random.nextSeed() }) })
      .apply(tfl.layers.flatten().apply(input)) as tfl.SymbolicTensor;
    const probabilities = tfl.layers.softmax().apply(logits) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: probabilities });
    const serialized = await serializeModel(model, {
      format: 'diyml',
      version: 1,
      architecture: 'small-cnn',
      task: 'classification',
      labels: ['a', 'b', 'c'],
      imageSize: { width: 8, height: 8 },
      channels: 1,
      fit: 'resize',
      inputRange: [0, 1],
    });
    model.dispose();
    const onnx = await exportOnnx(packModel(serialized), ['a', 'b', 'c']);
    const { docString } = ModelProto.toObject(ModelProto.decode(onnx)) as { docString: string };
    expect(docString).toContain('Y = 0.2126 R + 0.7152 G + 0.0722 B on linear-light values');

    // A colour photo at the model's size (nothing to resample): strong reds, greens and blues.
    const rgb = Buffer.from(Array.from({ length: 64 * 3 }, () => random.integer(256)));
    const photo = await sharp(rgb, { raw: { width: 8, height: 8, channels: 3 } })
      .png()
      .toBuffer();
    const linear = (v: number) => (v / 255 <= 0.04045 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
    const coded = (y: number) => (y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055);
    const grey = Float32Array.from({ length: 64 }, (_, i) => {
      const [r, g, b] = [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]].map(linear);
      return Math.round(coded(0.2126 * r + 0.7152 * g + 0.0722 * b) * 255) / 255;
    });
    const diyml = await loadModel(serialized, { runtime: 'tfjs' });
    const session = await ort.InferenceSession.create(onnx);
    try {
      const expected = await diyml.predict(photo);
      const outputs = await session.run({ image: new ort.Tensor('float32', grey, [1, 8, 8, 1]) });
      const scores = outputs[session.outputNames[0]].data as Float32Array;
      for (const prediction of expected) expect(scores[prediction.labelIndex]).toBeCloseTo(prediction.probability, 2);
    } finally {
      diyml.dispose();
      await session.release();
    }
  });
});
