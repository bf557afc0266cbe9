import * as tf from '@tensorflow/tfjs-core';
import { adamUpdateKernel } from './adam-update.kernel.js';
import { batchMatMulKernel } from './batch-mat-mul.kernels.js';
import { conv2dBackpropFilterKernel, conv2dBackpropInputKernel } from './conv2d-gradient.kernels.js';
import { sharingIdentityKernel } from './identity.kernel.js';
import { maxPoolGradKernel } from './max-pool-gradient.kernels.js';

/** A replacement kernel, given the backend's own kernel of the same name (if any) to delegate cases it skips. */
type KernelFactory = (backendName: string, builtIn?: tf.KernelConfig) => tf.KernelConfig;

/**
 * Measured on a small CNN (28×28, batch 32): wasm 490 → 790 images/s with the first three; cpu 6 → about 40 with the
 * filter gradient (its conv2d-based input gradient was slower than cpu's own, so cpu keeps that one). Then, per CPU
 * second on the pooled 28×28 model (load 6–9, bench/ml-kernel-profile.ts): about 790 → 1,050 with BatchMatMul,
 * Identity and the JavaScript MaxPoolGrad, → 1,300 with the fused Adam kernel (DiymlAdamUpdate, a kernel of our own
 * rather than a replacement) and the phase-wise strided input gradient.
 */
const replacementsByBackend: Record<string, KernelFactory[]> = {
  wasm: [
    conv2dBackpropFilterKernel,
    conv2dBackpropInputKernel,
    maxPoolGradKernel,
    batchMatMulKernel,
    sharingIdentityKernel,
    adamUpdateKernel,
  ],
  cpu: [conv2dBackpropFilterKernel, maxPoolGradKernel, adamUpdateKernel],
};

/** The kernel configs this module registered (the registry keeps the very object it was given). */
const ours = new WeakSet<tf.KernelConfig>();

/**
 * Registers the faster gradient kernels for `backendName` (wasm and cpu; tfjs-node needs none), replacing a built-in kernel of
 * the same name. Safe to call more than once. Returns the names of the kernels now replaced.
 */
export function registerGradientKernels(backendName: string): string[] {
  const replacements = replacementsByBackend[backendName] ?? [];
  return replacements.map((createKernel) => {
    const probe = createKernel(backendName);
    const current = tf.getKernel(probe.kernelName, backendName);
    if (current && ours.has(current)) return probe.kernelName;
    const kernel = current ? createKernel(backendName, current) : probe;
    if (current) tf.unregisterKernel(kernel.kernelName, backendName);
    tf.registerKernel(kernel);
    ours.add(kernel);
    return kernel.kernelName;
  });
}
