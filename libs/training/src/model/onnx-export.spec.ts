import { describe, expect, it } from 'vitest';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import sharp, { type Sharp } from 'sharp';
import { DomainError } from '@diyml/core/pure';
import { loadModel, ModelProto, SeededRandom, selectBackend, serializeModel } from '@diyml/ml';
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

  it("says how to prepare a phone photo (turned upright by its EXIF orientation), which then scores as diyml's prediction does", async () => {
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
    } finally {
      diyml.dispose();
      await session.release();
    }
  });
});
