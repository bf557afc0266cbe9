import { KerasImportError } from './keras-import.error.js';

/**
 * The Keras layer types diyml runs, by their Keras class name: those TensorFlow.js layers implements with the
 * same weights, for image models. Anything else (Lambda, custom layers, recurrent layers…) is refused by name.
 */
export const SUPPORTED_KERAS_LAYERS = [
  'InputLayer',
  'Dense',
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'Conv2DTranspose',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'ZeroPadding2D',
  'Cropping2D',
  'UpSampling2D',
  'Flatten',
  'Reshape',
  'Permute',
  'Dropout',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'BatchNormalization',
  'LayerNormalization',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'PReLU',
  'Softmax',
  'Rescaling',
  'Add',
  'Multiply',
  'Average',
  'Maximum',
  'Minimum',
  'Concatenate',
] as const;

/** Keras class names TensorFlow.js knows under another name. */
const TFJS_CLASS_NAMES: Record<string, string> = { SpatialDropout2D: 'Dropout' };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** A model configuration as TensorFlow.js layers reads it (Keras 2's JSON). */
export interface TfjsTopology {
  class_name: 'Sequential' | 'Model';
  config: JsonObject;
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const invalid = (message: string) => new KerasImportError('KERAS_MODEL_INVALID', message);

/**
 * A layer's config without what only Keras 3 writes (module, registered_name, build_config), dtype policies
 * reduced to float32, and initializers, regularizers and constraints left out: the weights are read from the
 * file, and TensorFlow.js does not know every Keras initializer.
 */
function cleanLayerConfig(className: string, config: JsonObject): JsonObject {
  const cleaned: JsonObject = {};
  for (const [key, value] of Object.entries(config)) {
    if (/_(initializer|regularizer|constraint)$/.test(key)) continue;
    if (key === 'dtype') {
      cleaned.dtype = 'float32';
      continue;
    }
    if (key === 'batch_shape') {
      cleaned.batch_input_shape = value;
      continue;
    }
    if (
      [
        'module',
        'registered_name',
        'build_config',
        'compile_config',
        'shared_object_id',
        'synchronized',
        'optional',
        'lora_rank',
      ].includes(key)
    )
      continue;
    cleaned[key] = value;
  }
  if (className === 'SpatialDropout2D') delete cleaned.data_format;
  return cleaned;
}

function layerName(layer: JsonObject): string {
  const config = isObject(layer.config) ? layer.config : {};
  return String(layer.name ?? config.name ?? '');
}

function requireSupported(layer: JsonObject): string {
  const className = String(layer.class_name ?? '');
  if ((SUPPORTED_KERAS_LAYERS as readonly string[]).includes(className)) return className;
  const name = layerName(layer);
  const nested = className === 'Sequential' || className === 'Functional' || className === 'Model';
  throw new KerasImportError(
    'KERAS_UNSUPPORTED_LAYER',
    nested
      ? `The model nests a whole model ("${name}", a ${className}) as a layer, which diyml cannot run: save the model flattened into one.`
      : `The model uses a ${className || 'nameless'} layer ("${name}"), which diyml cannot run. Layers diyml runs: ${SUPPORTED_KERAS_LAYERS.join(', ')}.`,
    { layerType: className, layerName: name, supportedLayers: [...SUPPORTED_KERAS_LAYERS] },
  );
}

function tfjsLayer(layer: JsonObject): JsonObject {
  const className = requireSupported(layer);
  const config = isObject(layer.config) ? layer.config : {};
  return { class_name: TFJS_CLASS_NAMES[className] ?? className, config: cleanLayerConfig(className, config) };
}

/** Keras 3 writes a node's inputs as `{class_name: '__keras_tensor__', config: {keras_history: [layer, node, tensor]}}` inside its call arguments. */
function kerasTensorsIn(value: Json, found: Json[][] = []): Json[][] {
  if (Array.isArray(value)) {
    for (const item of value) kerasTensorsIn(item, found);
  } else if (isObject(value)) {
    if (
      value.class_name === '__keras_tensor__' &&
      isObject(value.config) &&
      Array.isArray(value.config.keras_history)
    ) {
      const [layer, node, tensor] = value.config.keras_history;
      found.push([layer, node, tensor, {}]);
    } else {
      for (const item of Object.values(value)) kerasTensorsIn(item, found);
    }
  }
  return found;
}

/** Inbound nodes in Keras 2's form, `[[[layer, node, tensor, kwargs], …], …]`, from either version's form. */
function inboundNodes(nodes: Json | undefined): Json {
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node) => (isObject(node) ? kerasTensorsIn(node.args ?? []) : node));
}

/** `[layer, node, tensor]` or a list of them, as a list. */
function tensorList(value: Json | undefined): Json {
  if (!Array.isArray(value)) return [];
  return typeof value[0] === 'string' ? [value] : value;
}

function sequentialTopology(config: JsonObject): TfjsTopology {
  if (!Array.isArray(config.layers)) throw invalid('The Sequential model config has no layers.');
  const layers = config.layers.filter(isObject).map(tfjsLayer);
  const first = layers[0];
  if (!first) throw invalid('The Sequential model has no layers.');
  const firstConfig = first.config as JsonObject;
  if (first.class_name !== 'InputLayer' && !firstConfig.batch_input_shape) {
    // Keras 3 may keep the input shape beside the layers rather than in an InputLayer.
    if (!Array.isArray(config.build_input_shape))
      throw invalid('The model does not say the shape of its input: build it with an Input layer.');
    firstConfig.batch_input_shape = config.build_input_shape;
  }
  return { class_name: 'Sequential', config: { name: String(config.name ?? 'sequential'), layers } };
}

function functionalTopology(config: JsonObject): TfjsTopology {
  if (!Array.isArray(config.layers)) throw invalid('The functional model config has no layers.');
  const layers = config.layers.filter(isObject).map((layer) => ({
    ...tfjsLayer(layer),
    name: layerName(layer),
    inbound_nodes: inboundNodes(layer.inbound_nodes),
  }));
  return {
    class_name: 'Model',
    config: {
      name: String(config.name ?? 'model'),
      layers,
      input_layers: tensorList(config.input_layers),
      output_layers: tensorList(config.output_layers),
    },
  };
}

/**
 * A Keras model configuration (Keras 2's `model_config` or Keras 3's config.json) as TensorFlow.js layers
 * reads it, after checking every layer is one diyml runs (400 KERAS_UNSUPPORTED_LAYER naming the first that is not).
 */
export function toTfjsTopology(model: { class_name?: unknown; config?: unknown }): TfjsTopology {
  const className = String(model.class_name ?? '');
  if (!isObject(model.config))
    throw new KerasImportError('KERAS_NOT_A_MODEL', 'The model configuration has no "config" object.');
  if (className === 'Sequential') return sequentialTopology(model.config);
  if (className === 'Functional' || className === 'Model') return functionalTopology(model.config);
  throw new KerasImportError(
    'KERAS_UNSUPPORTED_LAYER',
    `The model is a ${className || 'nameless'} model (a subclassed model, saved without a layer graph): diyml runs Sequential and functional models.`,
    { layerType: className, layerName: '', supportedLayers: [...SUPPORTED_KERAS_LAYERS] },
  );
}
