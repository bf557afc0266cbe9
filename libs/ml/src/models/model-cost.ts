import * as tfl from '@tensorflow/tfjs-layers';

/**
 * From this many multiply-adds per image on, 'auto' runs predictions on onnxruntime-node, which is several times
 * faster than tfjs wasm there (MobileNetV2 to block_13 at 224 px: 221 million, 17 ms against 70 ms). Counted by
 * compute, not weights: a backbone cut at an early block has few weights but most of the work. Small models
 * (small-cnn on 28 px: 0.6 million) stay on tfjs, where a prediction takes about a millisecond and loads at once.
 */
export const ONNX_RUNTIME_MIN_MULTIPLY_ADDS = 20_000_000;

/**
 * Multiply-adds of one image's forward pass, counted from the weight kernels: every kernel weight is used once per
 * output position (convolutions: each pixel of the output map; dense layers: once). Biases, activations and
 * pooling are left out: they are a small part of the work.
 */
export function multiplyAddsPerImage(model: tfl.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    if (layer instanceof tfl.LayersModel) {
      total += multiplyAddsPerImage(layer);
      continue;
    }
    const kernelSize = layer.weights
      .filter((weight) => /kernel$/.test(weight.originalName))
      .reduce((sum, weight) => sum + weight.shape.reduce<number>((product, size) => product * (size ?? 1), 1), 0);
    if (kernelSize === 0) continue;
    const outputShape = (Array.isArray(layer.outputShape[0]) ? layer.outputShape[0] : layer.outputShape) as (
      number | null
    )[];
    // [batch, ...positions, channels]: the kernel runs once per position.
    const positions = outputShape.slice(1, -1).reduce<number>((product, size) => product * (size ?? 1), 1);
    total += kernelSize * positions;
  }
  return total;
}
