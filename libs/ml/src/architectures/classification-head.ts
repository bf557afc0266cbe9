import * as tf from '@tensorflow/tfjs-core';
import type { DecodeOptions, ExampleTarget, RawPrediction } from './architecture.js';

/** Shared by every classification architecture: softmax probabilities out, one-hot targets, cross-entropy. */
export const classificationHead = {
  encodeTargets(targets: readonly ExampleTarget[], outputShape: readonly number[]): tf.Tensor {
    const labelCount = outputShape[outputShape.length - 1];
    const labels = targets.map((target, index) => {
      if (target.label === undefined || target.label < 0 || target.label >= labelCount) {
        throw new RangeError(`example ${index} needs a label index in [0, ${labelCount})`);
      }
      return target.label;
    });
    return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), labelCount), 'float32'));
  },

  loss(targets: tf.Tensor, probabilities: tf.Tensor): tf.Scalar {
    return tf.tidy(() => {
      const clipped = tf.clipByValue(probabilities, 1e-7, 1);
      return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.log(clipped)), -1)));
    });
  },

  decode(probabilities: Float32Array, _outputShape: readonly number[], options: DecodeOptions): RawPrediction[] {
    return Array.from(probabilities, (probability, label) => ({ label, probability }))
      .filter((prediction) => prediction.probability >= options.threshold)
      .sort((a, b) => b.probability - a.probability)
      .slice(0, options.maxResults);
  },
};
