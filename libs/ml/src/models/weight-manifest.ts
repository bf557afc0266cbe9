import type * as tf from '@tensorflow/tfjs-core';

type ManifestEntry = tf.io.WeightsManifestEntry;

const BYTES_PER_ELEMENT: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/** The part of a model.json that describes its weight files. */
export interface WeightsManifestJson {
  weightsManifest?: { paths?: string[]; weights?: ManifestEntry[] }[];
}

/** The weights every group of a model.json manifest lists, in file order. */
export function manifestWeights(modelJson: WeightsManifestJson): ManifestEntry[] {
  if (!Array.isArray(modelJson.weightsManifest)) throw new Error('model.json has no weightsManifest');
  return modelJson.weightsManifest.flatMap((group) => group.weights ?? []);
}

function elements(entry: ManifestEntry): number {
  if (!Array.isArray(entry.shape) || !entry.shape.every((size) => Number.isInteger(size) && size >= 0)) {
    throw new Error(`weight ${entry.name} has shape ${JSON.stringify(entry.shape)}, not a list of sizes`);
  }
  return entry.shape.reduce((product, size) => product * size, 1);
}

function bytesPerElement(entry: ManifestEntry): number {
  const stored = entry.quantization?.dtype ?? entry.dtype;
  const size = BYTES_PER_ELEMENT[stored];
  if (!size) throw new Error(`weight ${entry.name} is stored as ${stored}, which diyml does not read`);
  return size;
}

/** How many bytes the weight files must hold together, exactly, for this manifest. */
export function expectedWeightBytes(entries: readonly ManifestEntry[]): number {
  return entries.reduce((total, entry) => total + elements(entry) * bytesPerElement(entry), 0);
}

/**
 * The first weight holding NaN or an infinity (float32 and float16 values, the scale and offset of quantized
 * ones), or null when every number is finite. `bytes` are the weight files joined in manifest order.
 */
export function findNonFiniteWeight(entries: readonly ManifestEntry[], bytes: Uint8Array): string | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  for (const entry of entries) {
    const count = elements(entry);
    const size = bytesPerElement(entry);
    const quantization = entry.quantization;
    if (quantization) {
      const parameters = [quantization.scale, quantization.min].filter((value) => value !== undefined);
      if (!parameters.every(Number.isFinite)) return entry.name;
      if (quantization.dtype === 'float16') {
        // Exponent bits all set: an infinity or NaN.
        for (let i = 0; i < count; i += 1)
          if ((view.getUint16(offset + i * 2, true) & 0x7c00) === 0x7c00) return entry.name;
      }
    } else if (entry.dtype === 'float32' || entry.dtype === 'complex64') {
      const values = entry.dtype === 'complex64' ? count * 2 : count;
      for (let i = 0; i < values; i += 1)
        if (!Number.isFinite(view.getFloat32(offset + i * 4, true))) return entry.name;
    }
    offset += count * size;
  }
  return null;
}
