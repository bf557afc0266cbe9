import * as tf from '@tensorflow/tfjs-core';
import { ADAM_UPDATE, type AdamUpdateAttrs } from '../backend/adam-update.kernel.js';

/**
 * Adam with tfjs-core's defaults (β1 0.9, β2 0.999, ε the backend's epsilon), one fused kernel per variable where the
 * backend has it (wasm, cpu: see registerGradientKernels) and the same arithmetic in tensor ops elsewhere.
 * Training-loop use only: no weight export, no serialization.
 */
export class AdamOptimizer extends tf.Optimizer {
  static get className(): string {
    return 'DiymlAdam';
  }

  private readonly moments = new Map<string, { m: tf.Tensor; v: tf.Tensor }>();
  private step = 0;

  constructor(
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = tf.backend().epsilon(),
  ) {
    super();
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const gradients = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    this.step++;
    const attrs: AdamUpdateAttrs = {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      firstCorrection: 1 - this.beta1 ** this.step,
      secondCorrection: 1 - this.beta2 ** this.step,
    };
    const fused = tf.getKernel(ADAM_UPDATE, tf.getBackend()) !== undefined;
    for (const { name, tensor: gradient } of gradients) {
      if (gradient == null) continue;
      const value = tf.engine().registeredVariables[name];
      const previous = this.moments.get(name) ?? { m: tf.keep(tf.zerosLike(value)), v: tf.keep(tf.zerosLike(value)) };
      const [newValue, m, v] = tf.tidy(() =>
        fused
          ? (tf
              .engine()
              .runKernel(
                ADAM_UPDATE,
                { value, gradient, m: previous.m, v: previous.v },
                attrs as unknown as tf.NamedAttrMap,
              ) as tf.Tensor[])
          : adamInOps(value, gradient, previous.m, previous.v, attrs),
      );
      value.assign(newValue);
      newValue.dispose();
      tf.dispose([previous.m, previous.v]);
      this.moments.set(name, { m: tf.keep(m), v: tf.keep(v) });
    }
    this.incrementIterations();
  }

  override dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

function adamInOps(
  value: tf.Tensor,
  gradient: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  attrs: AdamUpdateAttrs,
): tf.Tensor[] {
  const { learningRate, beta1, beta2, epsilon, firstCorrection, secondCorrection } = attrs;
  const newM = tf.add(tf.mul(m, beta1), tf.mul(gradient, 1 - beta1));
  const newV = tf.add(tf.mul(v, beta2), tf.mul(tf.square(gradient), 1 - beta2));
  const step = tf.div(tf.div(newM, firstCorrection), tf.add(tf.sqrt(tf.div(newV, secondCorrection)), epsilon));
  return [tf.sub(value, tf.mul(step, learningRate)), newM, newV];
}
