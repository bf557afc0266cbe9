import * as tf from '@tensorflow/tfjs-core';

/** Tensors (variables included) the current backend holds now. */
export function liveTensorCount(): number {
  return tf.memory().numTensors;
}

/**
 * Disposes every variable left on the backend. A training thread that trains again calls it after each run: models
 * that share layers with a backbone do not always release every weight (tfjs-layers' dispose stops at the first
 * layer another model already disposed), and no variable outlives a run there.
 */
export function disposeLeftoverVariables(): void {
  tf.disposeVariables();
}
