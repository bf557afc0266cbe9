import { unzipSync } from 'fflate';
import type { Dataset, Group } from 'h5wasm/node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KerasImportError } from './keras-import.error.js';

/** One weight array of a layer, in the order Keras keeps a layer's variables. */
export interface KerasWeight {
  shape: number[];
  values: Float32Array;
}

/** What a Keras model file holds: its configuration (as Keras wrote it) and each layer's weights by layer name. */
export interface KerasModelFile {
  /** 'keras-h5': Keras 2's HDF5 layout (model.save('m.h5')); 'keras': Keras 3's zip (model.save('m.keras')). */
  format: 'keras-h5' | 'keras';
  config: { class_name?: unknown; config?: unknown };
  weights: Map<string, KerasWeight[]>;
}

/** What reading a Keras file may cost: the weight arrays are decompressed in memory. */
export interface KerasReadLimits {
  /** All weight arrays together, as float32, judged from the shapes the file declares before any is read. */
  maxWeightBytes: number;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const KERAS3_CONFIG = 'config.json';
const KERAS3_WEIGHTS = 'model.weights.h5';

export function isHdf5(bytes: Uint8Array): boolean {
  return HDF5_SIGNATURE.every((byte, index) => bytes[index] === byte);
}

/** Whether a zip is a Keras 3 `.keras` file: its central directory names config.json and model.weights.h5 (nothing is inflated). */
export function isKerasZip(bytes: Uint8Array): boolean {
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b) return false;
  const names = new Set<string>();
  try {
    unzipSync(bytes, { filter: (file) => (names.add(file.name), false) });
  } catch {
    return false;
  }
  return names.has(KERAS3_CONFIG) && names.has(KERAS3_WEIGHTS);
}

const notAModel = (message: string) => new KerasImportError('KERAS_NOT_A_MODEL', message);

function parseJson(text: unknown, what: string): KerasModelFile['config'] {
  try {
    const parsed = JSON.parse(String(text)) as unknown;
    if (parsed && typeof parsed === 'object') return parsed as KerasModelFile['config'];
  } catch {
    // reported below
  }
  throw notAModel(`${what} is not a JSON model configuration.`);
}

type H5wasm = (typeof import('h5wasm/node'))['default'];
/** h5wasm (about 40 MiB of WebAssembly memory) is loaded at the first Keras import, not when the api starts. */
let h5wasm: H5wasm;
let h5wasmLoading: Promise<void> | undefined;

export function loadH5wasm(): Promise<void> {
  h5wasmLoading ??= import('h5wasm/node').then(async ({ default: module }) => {
    await module.ready;
    h5wasm = module;
  });
  return h5wasmLoading;
}

/** h5wasm reads only named files (Node's file system): the bytes are opened from a private temporary file. */
async function withHdf5File<T>(bytes: Uint8Array, read: (file: Group) => T): Promise<T> {
  await loadH5wasm();
  const folder = mkdtempSync(join(tmpdir(), 'diyml-keras-'));
  const path = join(folder, 'model.h5');
  try {
    writeFileSync(path, bytes);
    let file;
    try {
      file = new h5wasm.File(path, 'r');
    } catch (error) {
      throw notAModel(`The file is not a readable HDF5 file: ${(error as Error).message}.`);
    }
    try {
      return read(file);
    } finally {
      file.close();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function stringList(group: Group, attribute: string): string[] {
  const value = group.attrs[attribute]?.json_value;
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** Counts the bytes of the weight arrays a file declares, refusing the file once they pass the limit. */
class WeightBudget {
  private bytes = 0;
  constructor(private readonly limits: KerasReadLimits) {}

  take(shape: number[], path: string): void {
    this.bytes += shape.reduce((product, size) => product * size, 1) * Float32Array.BYTES_PER_ELEMENT;
    if (this.bytes > this.limits.maxWeightBytes) {
      throw new KerasImportError(
        'KERAS_FILE_TOO_LARGE',
        `The model's weights, up to ${path}, take more than ${this.limits.maxWeightBytes} bytes once decompressed: import a smaller model.`,
        { maxWeightBytes: this.limits.maxWeightBytes },
      );
    }
  }
}

function weightOf(entity: unknown, path: string, budget: WeightBudget): KerasWeight {
  if (!(entity instanceof h5wasm.Dataset))
    throw new KerasImportError('KERAS_MODEL_INVALID', `The weights file has no array at ${path}.`);
  const dataset = entity as Dataset;
  // Judged before reading: a compressed array of zeros may declare gigabytes in a small file.
  budget.take(dataset.shape ?? [], path);
  const value = dataset.value;
  if (!(
    value instanceof Float32Array ||
    value instanceof Float64Array ||
    value instanceof Uint8Array ||
    value instanceof Int32Array
  )) {
    throw new KerasImportError(
      'KERAS_MODEL_INVALID',
      `The weight ${path} is not an array of numbers (${dataset.dtype}).`,
    );
  }
  return { shape: dataset.shape ?? [], values: value instanceof Float32Array ? value : Float32Array.from(value) };
}

/**
 * Keras 2's HDF5 layout: the model's JSON in the root attribute `model_config`; weights under `model_weights`,
 * whose attribute `layer_names` lists the layers and each layer group's `weight_names` its arrays, in order.
 */
export async function readKerasH5(bytes: Uint8Array, limits: KerasReadLimits): Promise<KerasModelFile> {
  const budget = new WeightBudget(limits);
  return withHdf5File(bytes, (file) => {
    const modelConfig = file.attrs.model_config?.json_value;
    if (modelConfig === undefined || modelConfig === null) {
      const weightsOnly = file.attrs.layer_names !== undefined;
      throw notAModel(
        weightsOnly
          ? 'The HDF5 file holds weights only (model.save_weights): save the whole model with model.save("model.h5") or model.save("model.keras").'
          : 'The HDF5 file holds no Keras model (no model_config attribute): save it with model.save("model.h5") or model.save("model.keras").',
      );
    }
    const config = parseJson(modelConfig, 'The model_config attribute');
    const weights = new Map<string, KerasWeight[]>();
    const group = file.get('model_weights');
    if (!(group instanceof h5wasm.Group))
      throw notAModel('The HDF5 file has a model_config but no model_weights group.');
    for (const layer of stringList(group, 'layer_names')) {
      const layerGroup = group.get(layer);
      if (!(layerGroup instanceof h5wasm.Group)) continue;
      const names = stringList(layerGroup, 'weight_names');
      weights.set(
        layer,
        names.map((name) => weightOf(layerGroup.get(name), `model_weights/${layer}/${name}`, budget)),
      );
    }
    return { format: 'keras-h5', config, weights };
  });
}

/**
 * Keras 3's `.keras` zip: config.json, and model.weights.h5 where each layer's variables are the arrays
 * `layers/<layer name>/vars/0`, `1`, … in the layer's order.
 */
export async function readKerasZip(
  entries: ReadonlyMap<string, Uint8Array>,
  limits: KerasReadLimits,
): Promise<KerasModelFile> {
  const budget = new WeightBudget(limits);
  const configBytes = entries.get(KERAS3_CONFIG);
  const weightBytes = entries.get(KERAS3_WEIGHTS);
  if (!configBytes || !weightBytes)
    throw notAModel(`A .keras file holds ${KERAS3_CONFIG} and ${KERAS3_WEIGHTS}; this zip does not.`);
  const config = parseJson(new TextDecoder().decode(configBytes), KERAS3_CONFIG);
  if (!isHdf5(weightBytes)) throw notAModel(`${KERAS3_WEIGHTS} is not an HDF5 file.`);
  return withHdf5File(weightBytes, (file) => {
    const weights = new Map<string, KerasWeight[]>();
    const layers = file.get('layers');
    if (layers instanceof h5wasm.Group) {
      for (const name of layers.keys()) {
        const vars = layers.get(`${name}/vars`);
        if (!(vars instanceof h5wasm.Group)) continue;
        const indices = vars
          .keys()
          .map(Number)
          .filter(Number.isInteger)
          .sort((a, b) => a - b);
        weights.set(
          name,
          indices.map((index) => weightOf(vars.get(String(index)), `layers/${name}/vars/${index}`, budget)),
        );
      }
    }
    return { format: 'keras', config, weights };
  });
}

export const KERAS_ZIP_ENTRIES = [KERAS3_CONFIG, KERAS3_WEIGHTS, 'metadata.json'] as const;
