import * as tf from '@tensorflow/tfjs-core';

/** Tensors (variables included) the current backend holds now. */
export function liveTensorCount(): number {
  return tf.memory().numTensors;
}

/**
 * Disposes every variable left on the backend. A training thread that trains again calls it after each run, so that
 * a weight a run failed to release never outlives it there (train() releases every weight of its models itself).
 */
export function disposeLeftoverVariables(): void {
  tf.disposeVariables();
}
