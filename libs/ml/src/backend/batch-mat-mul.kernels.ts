import * as tf from '@tensorflow/tfjs-core';

/**
 * tfjs-backend-wasm 4.22 runs BatchMatMul through XNNPACK only when neither operand is transposed and the batch is
 * 1; a transposed operand (every matMul gradient asks for one) falls to a scalar triple loop, 5–10x slower. XNNPACK
 * packs its right operand (the "weights") when it first sees a tensor, at a cost that grows with its size, so a
 * transposed product is rewritten as an untransposed one whose right operand is the smaller of the two choices:
 *
 *   A·B  = (Bᵀ·Aᵀ)ᵀ, so each case can pack either B (as it is or transposed) or A (transposed or as it is).
 */
export function matMulWithoutTransposedOperands(
  a: tf.Tensor,
  b: tf.Tensor,
  transposeA: boolean,
  transposeB: boolean,
): tf.Tensor {
  return tf.tidy(() => {
    const [aRows, aColumns] = a.shape.slice(-2);
    const [bRows, bColumns] = b.shape.slice(-2);
    const m = transposeA ? aColumns : aRows;
    const n = transposeB ? bRows : bColumns;
    // Leading (batch) axes are all 1 here; the output keeps the longer operand's.
    const outShape = [...(a.rank >= b.rank ? a.shape : b.shape).slice(0, -2), m, n];
    const left2d = tf.reshape(a, [aRows, aColumns]);
    const right2d = tf.reshape(b, [bRows, bColumns]);
    // Packing B (as [k, n]) costs about k·n, packing Aᵀ (as [k, m]) about k·m.
    if (n <= m) {
      const left = transposeA ? tf.transpose(left2d) : left2d;
      const right = transposeB ? tf.transpose(right2d) : right2d;
      return tf.reshape(tf.matMul(left, right), outShape);
    }
    // C = A·B = (Bᵀ·Aᵀ)ᵀ with Bᵀ as the left operand and Aᵀ (k × m) as the packed one.
    const left = transposeB ? right2d : tf.transpose(right2d);
    const right = transposeA ? left2d : tf.transpose(left2d);
    return tf.reshape(tf.transpose(tf.matMul(left, right)), outShape);
  });
}

interface BatchMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** Only single products (2-D, or batch axes of 1) with a transposed operand are rewritten; the rest goes to the built-in. */
export function batchMatMulKernel(backendName: string, builtIn?: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: tf.BatchMatMul,
    backendName,
    setupFunc: builtIn?.setupFunc,
    disposeFunc: builtIn?.disposeFunc,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as unknown as { a: tf.Tensor; b: tf.Tensor };
      const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
      const singleProduct = (t: tf.Tensor) => t.rank >= 2 && t.shape.slice(0, -2).every((size) => size === 1);
      const rewritable =
        (transposeA || transposeB) &&
        a instanceof tf.Tensor &&
        b instanceof tf.Tensor &&
        singleProduct(a) &&
        singleProduct(b);
      if (rewritable && a.dtype === 'float32' && b.dtype === 'float32')
        return matMulWithoutTransposedOperands(a, b, transposeA, transposeB);
      if (!builtIn) throw new Error(`BatchMatMul on ${backendName}: no built-in kernel to delegate to`);
      return builtIn.kernelFunc(args);
    },
  };
}
