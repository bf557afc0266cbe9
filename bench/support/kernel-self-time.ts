import * as tf from '@tensorflow/tfjs-core';

export type KernelSelfTime = Map<string, { ms: number; calls: number }>;

/**
 * Wraps every kernel of `backend` to count its self time (time inside a kernel minus the kernels it runs itself)
 * into the returned map, keyed by kernel name; SHAPES=Conv2D,Sum splits those kernels by their input shapes.
 * `beforeCall` sees each call first (e.g. to record where a kernel is called from).
 */
export function profileKernelSelfTime(backend: string, beforeCall?: (kernelName: string) => void): KernelSelfTime {
  const selfTime: KernelSelfTime = new Map();
  const splitByShape = new Set(process.env.SHAPES?.split(',') ?? []);
  const depth: number[] = [];
  for (const kernel of tf.getKernelsForBackend(backend)) {
    const original = kernel.kernelFunc;
    tf.unregisterKernel(kernel.kernelName, backend);
    tf.registerKernel({
      ...kernel,
      kernelFunc: (args) => {
        beforeCall?.(kernel.kernelName);
        depth.push(0);
        const start = performance.now();
        const result = original(args);
        const elapsed = performance.now() - start;
        const children = depth.pop()!;
        if (depth.length > 0) depth[depth.length - 1] += elapsed;
        const key = splitByShape.has(kernel.kernelName)
          ? `${kernel.kernelName} ${Object.values(args.inputs)
              .map((t) => `[${(t as tf.TensorInfo).shape}]`)
              .join(' ')}`
          : kernel.kernelName;
        const entry = selfTime.get(key) ?? { ms: 0, calls: 0 };
        entry.ms += elapsed - children;
        entry.calls++;
        selfTime.set(key, entry);
        return result;
      },
    });
  }
  return selfTime;
}
