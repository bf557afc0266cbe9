import type * as tfl from '@tensorflow/tfjs-layers';
import type { Channels, ImageSize } from '../images/image-decoding.js';
import type { SerializedModel } from './model-serialization.js';

/** What can be learned about a model trained elsewhere (for example a Teachable Machine export). */
export interface ForeignModelInfo {
  imageSize: ImageSize;
  channels: Channels;
  inputRange: [number, number];
  labels?: string[];
}

interface TeachableMachineMetadata {
  packageName?: string;
  labels?: string[];
  /** Written by diyml's Keras import: the range the model's input expects. */
  inputRange?: unknown;
}

const isRange = (value: unknown): value is [number, number] =>
  Array.isArray(value) && value.length === 2 && value.every(Number.isFinite) && value[0] < value[1];

/** Reads input size and colour from the model's input shape, labels and value range from metadata.json. */
export function describeForeignModel(model: tfl.LayersModel, serialized: SerializedModel): ForeignModelInfo {
  const shape = model.inputs[0].shape;
  const [height, width, channels] = [shape[1], shape[2], shape[3]];
  if (height == null || width == null || (channels !== 1 && channels !== 3)) {
    throw new Error(`model input must be [batch, height, width, 1|3] with a fixed size, got [${shape.join(', ')}]`);
  }
  const metadata = serialized.metadataJson ? (JSON.parse(serialized.metadataJson) as TeachableMachineMetadata) : {};
  // Teachable Machine image models (MobileNet) take pixels scaled to [-1, 1].
  const inputRange: [number, number] = isRange(metadata.inputRange)
    ? metadata.inputRange
    : metadata.packageName?.includes('teachablemachine')
      ? [-1, 1]
      : [0, 1];
  return { imageSize: { width, height }, channels, inputRange, labels: metadata.labels };
}
