import * as tfl from '@tensorflow/tfjs-layers';

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
