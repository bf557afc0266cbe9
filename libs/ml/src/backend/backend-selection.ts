import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle registers all of them as a side effect.
import '@tensorflow/tfjs-layers';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerGradientKernels } from './gradient-kernels.js';

/** 'tensorflow' is the native backend of the optional @tensorflow/tfjs-node package. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

const FALLBACK_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

let wasmPathsSet = false;

/** The .wasm binaries ship next to the package's Node entry point; point the loader at them by file path. */
function useBundledWasmBinaries(): void {
  if (wasmPathsSet) return;
  const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
  setWasmPaths(`${dirname(entry)}/`);
  wasmPathsSet = true;
}

/**
 * The wasm backend's Emscripten module adds process-wide handlers that rethrow every uncaught error and unhandled
 * rejection from inside the handler: the process then dies with exit code 7 before its own handlers run (the api's
 * logging, a test runner's report). Whatever handlers `load` adds are taken off again.
 */
async function withoutAddedCrashHandlers<T>(load: () => Promise<T>): Promise<T> {
  const uncaught = process.listeners('uncaughtException');
  const unhandled = process.listeners('unhandledRejection');
  try {
    return await load();
  } finally {
    for (const listener of process.listeners('uncaughtException'))
      if (!uncaught.includes(listener)) process.removeListener('uncaughtException', listener);
    for (const listener of process.listeners('unhandledRejection'))
      if (!unhandled.includes(listener)) process.removeListener('unhandledRejection', listener);
  }
}

async function tryBackend(name: BackendName): Promise<boolean> {
  try {
    if (name === 'tensorflow') {
      // Optional dependency: a variable specifier keeps TypeScript and bundlers from requiring it.
      const nativePackage = '@tensorflow/tfjs-node';
      await import(nativePackage);
      if (!tf.findBackendFactory('tensorflow')) return false;
    }
    if (name === 'wasm') useBundledWasmBinaries();
    registerGradientKernels(name);
    return await withoutAddedCrashHandlers(() => tf.setBackend(name));
  } catch {
    return false;
  }
}

/**
 * Chooses the fastest available backend (tfjs-node, else wasm with SIMD, else cpu), trying `preferred` first,
 * registers the replacement gradient kernels it needs, and returns the chosen backend's name.
 */
export async function selectBackend(preferred?: BackendName): Promise<BackendName> {
  const order = preferred ? [preferred, ...FALLBACK_ORDER.filter((name) => name !== preferred)] : FALLBACK_ORDER;
  for (const name of order) {
    if (tf.engine().backendName === name) return name;
    if (await tryBackend(name)) return name;
  }
  throw new Error(`no tfjs backend could be initialised (tried ${order.join(', ')})`);
}
