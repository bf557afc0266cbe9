import * as tf from '@tensorflow/tfjs-core';

/** What this kernel needs of a backend: tfjs-backend-wasm's reference counting of tensor data (Reshape uses it too). */
interface ReferenceCountingBackend {
  incRef(dataId: tf.DataId): void;
}

/**
 * Identity by sharing the input's data (one more reference) instead of copying it. tfjs-backend-wasm 4.22 copies,
 * and the engine clones every tensor a gradient needs later through Identity: about 40 full copies per training
 * step of a small CNN. Tensor data is immutable, so sharing is safe; the cpu backend's Identity does the same.
 */
export function sharingIdentityKernel(backendName: string, builtIn?: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: tf.Identity,
    backendName,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x.dtype === 'string') {
        if (!builtIn) throw new Error(`Identity on ${backendName}: strings need the built-in kernel`);
        return builtIn.kernelFunc(args);
      }
      (args.backend as unknown as ReferenceCountingBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  };
}
