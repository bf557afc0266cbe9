import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { planAugmentation, type AugmentationOptions, type AugmentationPlan } from '../images/augmentation.js';
import { SeededRandom } from '../random/seeded-random.js';
import type { BackboneDescriptor } from './backbone.js';
import type { EmbeddingSpace, EmbeddingView } from './embeddings.js';

/**
 * Frozen feature maps for detection heads, cached like embeddings: keyed by image content hash, backbone, layers,
 * preprocessing (input size, fitting, range) and view (augmentation plan). A map is large (MobileNetV2's stride-16
 * and stride-32 layers at 224 px: 128,576 floats, 502 KiB), so each is a blob of its own (identical maps are stored
 * once by the content-addressed blob store) and a run records an index of the maps it used.
 */
export function featureMapSpaceOf(
  descriptor: BackboneDescriptor,
  layers: readonly string[],
  fit: string,
): EmbeddingSpace {
  const { id, inputSize, inputRange } = descriptor;
  return {
    backbone: id,
    layer: layers.join('+'),
    preprocessing: `${fit}-${inputSize}-range-${inputRange.join('..')}-maps`,
  };
}

/** Values of one image's maps at `layers`, one layer after the other, each [side, side, channels]. */
export function featureMapLength(descriptor: BackboneDescriptor, layers: readonly string[]): number {
  return layers.reduce((sum, name) => {
    const layer = descriptor.featureLayers.find((candidate) => candidate.name === name);
    if (!layer) throw new RangeError(`backbone '${descriptor.id}' lists no feature layer '${name}'`);
    return sum + Math.ceil(descriptor.inputSize / layer.stride) ** 2 * layer.channels;
  }, 0);
}

/**
 * The `count` augmented views of a training image, drawn from a generator seeded by the image's content hash: every
 * run views an image the same way whatever its own seed, so a later run (or a reproduction) finds them cached.
 */
export function augmentedViews(imageHash: string, options: AugmentationOptions, count: number): EmbeddingView[] {
  const random = new SeededRandom(createHash('sha256').update(imageHash).digest().readUInt32LE(0));
  return Array.from({ length: count }, () => {
    const plan = planAugmentation(options, random);
    return { name: planViewName(plan), plan };
  });
}

/** A view named by its plan, so maps of the same image under the same plan meet whichever settings drew it. */
function planViewName({ top, left, bottom, right, flip, brightnessShift }: AugmentationPlan): string {
  return `plan:${JSON.stringify([top, left, bottom, right, flip, brightnessShift])}`;
}

interface FeatureMapIndex {
  format: 'diyml-feature-maps';
  v: 1;
  space: EmbeddingSpace;
  dimension: number;
  /** Image hash, view name and the sha256 of the map's blob. */
  entries: [string, string, string][];
}

/** The index of a run's feature maps (a blob, JSON): where each (image, view) map is stored. */
export function encodeFeatureMapIndex(
  space: EmbeddingSpace,
  dimension: number,
  entries: [string, string, string][],
): Uint8Array {
  const sorted = [...entries].sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return new TextEncoder().encode(
    JSON.stringify({ format: 'diyml-feature-maps', v: 1, space, dimension, entries: sorted } satisfies FeatureMapIndex),
  );
}

/**
 * The index in `bytes`, or null when they hold something else (an embedding table: its first byte is the low byte
 * of a header length that is a multiple of 4, never '{').
 */
export function readFeatureMapIndex(bytes: Uint8Array): Omit<FeatureMapIndex, 'format' | 'v'> | null {
  if (bytes[0] !== 0x7b) return null;
  const index = JSON.parse(new TextDecoder().decode(bytes)) as FeatureMapIndex;
  if (index.format !== 'diyml-feature-maps' || index.v !== 1) return null;
  return { space: index.space, dimension: index.dimension, entries: index.entries };
}

const littleEndian = endianness() === 'LE';

/** A map as a blob: little-endian float32 values. */
export function featureMapToBytes(values: Float32Array): Uint8Array {
  if (littleEndian)
    return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return bytes;
}

export function featureMapFromBytes(bytes: Uint8Array, dimension: number): Float32Array {
  if (bytes.byteLength !== dimension * 4)
    throw new RangeError(`a feature map of ${dimension} values takes ${dimension * 4} bytes, got ${bytes.byteLength}`);
  if (littleEndian) return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: dimension }, (_, i) => view.getFloat32(i * 4, true));
}
