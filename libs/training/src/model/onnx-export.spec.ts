import { describe, expect, it } from 'vitest';
import * as tfl from '@tensorflow/tfjs-layers';
import { DomainError } from '@diyml/core/pure';
import { selectBackend, serializeModel } from '@diyml/ml';
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
});
