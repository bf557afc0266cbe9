import type { OnnxGraphBuilder } from './onnx-graph-builder.js';

/**
 * Folds each BatchNormalization that alone consumes a Conv (or Gemm) output into that node's weights and bias:
 * y = (Wx + b − mean) · γ/√(var+ε) + β = (W·s)x + (b − mean)·s + β with s = γ/√(var+ε) per output channel.
 * Inference then runs one convolution instead of a convolution and a normalisation pass over the feature map.
 */
export function foldBatchNormalization(builder: OnnxGraphBuilder, graphOutputs: ReadonlySet<string>): void {
  const consumers = new Map<string, number>();
  for (const node of builder.nodes)
    for (const input of node.input) consumers.set(input, (consumers.get(input) ?? 0) + 1);
  const producers = new Map(builder.nodes.map((node) => [node.output[0], node]));
  const folded = new Set<object>();
  for (const norm of builder.nodes) {
    if (norm.opType !== 'BatchNormalization') continue;
    const producer = producers.get(norm.input[0]);
    if (!producer || (producer.opType !== 'Conv' && producer.opType !== 'Gemm')) continue;
    if (consumers.get(producer.output[0]) !== 1 || graphOutputs.has(producer.output[0])) continue;
    const [gamma, beta, mean, variance] = norm.input.slice(1).map((name) => builder.floatInitializer(name)?.values);
    const weights = builder.floatInitializer(producer.input[1]);
    if (!gamma || !beta || !mean || !variance || !weights) continue;
    const epsilon = norm.attribute.find((attribute) => attribute.name === 'epsilon')?.f ?? 1e-5;
    const channels = gamma.length;
    const scale = gamma.map((g, channel) => g / Math.sqrt(variance[channel] + epsilon));
    if (producer.opType === 'Conv') {
      // W is [out, in/group, kh, kw]: every weight of output channel c is scaled by s[c].
      const perChannel = weights.values.length / channels;
      for (let index = 0; index < weights.values.length; index++)
        weights.values[index] *= scale[Math.floor(index / perChannel)];
    } else {
      // Gemm's B is [in, out] (transB = 0): column c is scaled by s[c].
      for (let index = 0; index < weights.values.length; index++) weights.values[index] *= scale[index % channels];
    }
    const bias = producer.input[2] ? builder.floatInitializer(producer.input[2])?.values : undefined;
    const foldedBias = scale.map((s, channel) => ((bias?.[channel] ?? 0) - mean[channel]) * s + beta[channel]);
    producer.input[2] = builder.floatConstant(`${producer.input[1]}_folded_bias`, foldedBias, [channels]);
    producer.output[0] = norm.output[0];
    folded.add(norm);
  }
  const kept = builder.nodes.filter((node) => !folded.has(node));
  builder.nodes.splice(0, builder.nodes.length, ...kept);
}
