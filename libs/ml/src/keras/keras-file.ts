import type { Dataset, Group } from 'h5wasm/node';
import { open } from 'node:fs/promises';
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

/** The buffers of a file's weight arrays, each once: moved, not copied, when the file crosses to another thread. */
export function weightBuffers(file: KerasModelFile): ArrayBuffer[] {
  return [...new Set([...file.weights.values()].flat().map((weight) => weight.values.buffer as ArrayBuffer))];
}

/** What reading a Keras file may cost: the weight arrays are decompressed in memory. */
export interface KerasReadLimits {
  /** All weight arrays together, as float32, judged from the shapes the file declares before any is read. */
  maxWeightBytes: number;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const KERAS3_CONFIG = 'config.json';
const KERAS3_WEIGHTS = 'model.weights.h5';

/** Whether the file at `path` starts with the HDF5 signature. */
export async function isHdf5File(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(HDF5_SIGNATURE.length), 0, HDF5_SIGNATURE.length, 0);
    return bytesRead === HDF5_SIGNATURE.length && HDF5_SIGNATURE.every((byte, index) => buffer[index] === byte);
  } finally {
    await file.close();
  }
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

/**
 * Opens the HDF5 file at `path` where it is (h5wasm reads the host's files on Node): only what `read` asks for is
 * read from it, so a large file costs the arrays taken from it, not its size.
 */
async function withHdf5File<T>(path: string, read: (file: Group) => T): Promise<T> {
  await loadH5wasm();
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
 * Keras 2's HDF5 layout (the file at `path`): the model's JSON in the root attribute `model_config`; weights under
 * `model_weights`, whose attribute `layer_names` lists the layers and each layer group's `weight_names` its arrays, in
 * order. Nothing else is read (a file saved with its optimizer holds as much again of optimizer state).
 */
export async function readKerasH5(path: string, limits: KerasReadLimits): Promise<KerasModelFile> {
  const budget = new WeightBudget(limits);
  return withHdf5File(path, (file) => {
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

/** A Keras 3 `.keras` zip's two parts: config.json's text, and model.weights.h5 unpacked to a file. */
export interface KerasZipParts {
  config: string;
  weightsPath: string;
}

/**
 * Keras 3's `.keras` zip: config.json, and model.weights.h5 where each layer's variables are the arrays
 * `layers/<layer name>/vars/0`, `1`, … in the layer's order.
 */
export async function readKerasZip(
  { config: configText, weightsPath }: KerasZipParts,
  limits: KerasReadLimits,
): Promise<KerasModelFile> {
  const budget = new WeightBudget(limits);
  const config = parseJson(configText, KERAS3_CONFIG);
  if (!(await isHdf5File(weightsPath))) throw notAModel(`${KERAS3_WEIGHTS} is not an HDF5 file.`);
  return withHdf5File(weightsPath, (file) => {
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

/** The entries of a `.keras` zip that hold the model. */
export const KERAS_ZIP_ENTRIES = { config: KERAS3_CONFIG, weights: KERAS3_WEIGHTS } as const;
