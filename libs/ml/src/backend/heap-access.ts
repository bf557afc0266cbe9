import type * as tf from '@tensorflow/tfjs-core';

/**
 * Direct access to float32 tensor data for kernels written in plain JavaScript, on the two backends that keep data in
 * this thread's memory: wasm (views of its heap) and cpu (its typed arrays). A wasm heap view is invalidated when the
 * heap grows, so allocate every output before taking any view.
 */
export interface TensorMemory {
  /** A new float32 tensor's data, not initialised. */
  allocate(shape: number[]): tf.TensorInfo;
  /** The values of `info`; for wasm a view of the heap (re-take it after allocating). */
  values(info: tf.TensorInfo): Float32Array;
}

interface WasmLikeBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

interface CpuLikeBackend {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  data: { get(dataId: tf.DataId): { values: tf.backend_util.BackendValues } };
}

export function tensorMemory(backend: unknown): TensorMemory | null {
  const wasm = backend as Partial<WasmLikeBackend>;
  if (typeof wasm.makeOutput === 'function' && typeof wasm.typedArrayFromHeap === 'function') {
    return {
      allocate: (shape) => wasm.makeOutput!(shape, 'float32'),
      values: (info) => wasm.typedArrayFromHeap!(info) as Float32Array,
    };
  }
  const cpu = backend as Partial<CpuLikeBackend>;
  if (typeof cpu.makeTensorInfo === 'function' && cpu.data) {
    return {
      allocate: (shape) => cpu.makeTensorInfo!(shape, 'float32', new Float32Array(shape.reduce((a, b) => a * b, 1))),
      values: (info) => cpu.data!.get(info.dataId).values as Float32Array,
    };
  }
  return null;
}
