import * as tf from '@tensorflow/tfjs-core';
import type { Architecture, ExampleTarget } from './architecture.js';
import { classificationHead } from './classification-head.js';

/**
 * Multilabel classification: one sigmoid probability per label, independent of the others (they do not sum to 1),
 * multi-hot targets, binary cross-entropy averaged over labels. Predictions list every label, best first, as
 * classification's do.
 */
export const multilabelHead = {
  encodeTargets(targets: readonly ExampleTarget[], outputShape: readonly number[]): tf.Tensor {
    const labelCount = outputShape[outputShape.length - 1];
    const values = new Float32Array(targets.length * labelCount);
    targets.forEach((target, index) => {
      for (const label of target.labels ?? []) {
        if (!Number.isInteger(label) || label < 0 || label >= labelCount)
          throw new RangeError(`example ${index} has a label index outside [0, ${labelCount})`);
        values[index * labelCount + label] = 1;
      }
    });
    return tf.tensor2d(values, [targets.length, labelCount]);
  },

  loss(targets: tf.Tensor, probabilities: tf.Tensor): tf.Scalar {
    return tf.tidy(() => {
      const clipped = tf.clipByValue(probabilities, 1e-7, 1 - 1e-7);
      const positive = tf.mul(targets, tf.log(clipped));
      const negative = tf.mul(tf.sub(1, targets), tf.log(tf.sub(1, clipped)));
      return tf.neg(tf.mean(tf.add(positive, negative)));
    });
  },

  decode: classificationHead.decode,
};

/** A classification architecture trained as multilabel: the same layers with a sigmoid output and the head above. */
export function asMultilabel(architecture: Architecture): Architecture {
  return {
    ...architecture,
    task: 'multilabel',
    build: (options) => architecture.build({ ...options, outputActivation: 'sigmoid' }),
    ...multilabelHead,
  };
}
