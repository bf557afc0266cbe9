import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { planAugmentation, type AugmentationOptions, type AugmentationPlan } from '../images/augmentation.js';
import { SeededRandom } from '../random/seeded-random.js';
import type { BackboneDescriptor } from './backbone.js';
import type { EmbeddingSpace, EmbeddingView } from './embeddings.js';

/**
 * Frozen feature maps for detection heads, cached like embeddings: keyed by image content hash, backbone, layers,
 * preprocessing (input size, fitting, range) and view (augmentation plan). A map is large (MobileNetV2's stride-16
 * and stride-32 layers at 224 px: 128,576 floats, 502 KiB), so an image's maps (all its views) are a blob of their own
 * (identical ones are stored once by the content-addressed blob store) and a run records an index of the maps it used.
 */
export function featureMapSpaceOf(
  descriptor: Pick<BackboneDescriptor, 'id' | 'inputSize' | 'inputRange'>,
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

/** An image's maps at several layers as the one array the cache holds: each layer's values after the other. */
export function concatenateMaps(maps: readonly Float32Array[]): Float32Array {
  const joined = new Float32Array(maps.reduce((sum, map) => sum + map.length, 0));
  let offset = 0;
  for (const map of maps) {
    joined.set(map, offset);
    offset += map.length;
  }
  return joined;
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

/**
 * A run's index of feature maps (a blob, JSON). v2: one blob per image holds its views' maps one after the other
 * (one read per image); v1, written before, held one blob per view.
 */
type StoredFeatureMapIndex =
  | {
      format: 'diyml-feature-maps';
      v: 1;
      space: EmbeddingSpace;
      dimension: number;
      entries: [string, string, string][];
    }
  | { format: 'diyml-feature-maps'; v: 2; space: EmbeddingSpace; dimension: number; images: ImageFeatureMaps[] };

/** An image's content hash, the sha256 of the blob holding its maps, and the views they are of, in blob order. */
export type ImageFeatureMaps = [image: string, blob: string, views: string[]];

export interface FeatureMapIndex {
  space: EmbeddingSpace;
  dimension: number;
  images: ImageFeatureMaps[];
}

/** The index of a run's feature maps: where each image's maps are stored. */
export function encodeFeatureMapIndex(
  space: EmbeddingSpace,
  dimension: number,
  images: ImageFeatureMaps[],
): Uint8Array {
  const sorted = [...images].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new TextEncoder().encode(
    JSON.stringify({
      format: 'diyml-feature-maps',
      v: 2,
      space,
      dimension,
      images: sorted,
    } satisfies StoredFeatureMapIndex),
  );
}

/**
 * The index in `bytes` (either version: a v1 per-view blob reads as an image blob of one view), or null when they
 * hold something else (an embedding table: its first byte is the low byte of a header length that is a multiple of
 * 4, never '{').
 */
export function readFeatureMapIndex(bytes: Uint8Array): FeatureMapIndex | null {
  if (bytes[0] !== 0x7b) return null;
  const index = JSON.parse(new TextDecoder().decode(bytes)) as StoredFeatureMapIndex;
  if (index.format !== 'diyml-feature-maps') return null;
  if (index.v === 1)
    return {
      space: index.space,
      dimension: index.dimension,
      images: index.entries.map(([image, view, blob]) => [image, blob, [view]]),
    };
  if (index.v === 2) return { space: index.space, dimension: index.dimension, images: index.images };
  return null;
}

const littleEndian = endianness() === 'LE';

/** An image's maps (each `dimension` values) as one blob: little-endian float32 values, one map after the other. */
export function featureMapsToBytes(maps: readonly Float32Array[]): Uint8Array {
  const length = maps.reduce((sum, map) => sum + map.length, 0);
  const bytes = new Uint8Array(length * 4);
  if (littleEndian) {
    const values = new Float32Array(bytes.buffer);
    let offset = 0;
    for (const map of maps) {
      values.set(map, offset);
      offset += map.length;
    }
    return bytes;
  }
  const view = new DataView(bytes.buffer);
  let position = 0;
  for (const map of maps) for (const value of map) view.setFloat32(4 * position++, value, true);
  return bytes;
}

/**
 * The `count` maps of `dimension` values in a blob written by featureMapsToBytes, or null when its size does not fit
 * (the maps are then computed again). When `bytes` is the whole of its buffer (as a blob read from the store is), the
 * maps are views of that buffer, not a copy: 3,600 cached maps are 1.8 GB, and copying them cost as much as reading
 * them. Otherwise (a part of a larger buffer, which moving the maps to another thread would empty) they share a copy.
 */
export function featureMapsFromBytes(bytes: Uint8Array, dimension: number, count: number): Float32Array[] | null {
  if (bytes.byteLength !== dimension * count * 4) return null;
  const ownsBuffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const values = !littleEndian
    ? (() => {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        return Float32Array.from({ length: dimension * count }, (_, i) => view.getFloat32(i * 4, true));
      })()
    : ownsBuffer
      ? new Float32Array(bytes.buffer, 0, dimension * count)
      : new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return Array.from({ length: count }, (_, i) => values.subarray(i * dimension, (i + 1) * dimension));
}
