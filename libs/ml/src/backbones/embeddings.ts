import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import {
  augmentBatch,
  IDENTITY_PLAN,
  type AugmentationOptions,
  type AugmentationPlan,
} from '../images/augmentation.js';
import { decodeAll, decodeResized, type ImageSource } from '../images/image-decoding.js';
import type { Backbone, BackboneDescriptor } from './backbone.js';

/**
 * What an embedding depends on besides the image: the backbone, the layer it is pooled from, the preprocessing
 * (input size, fitting, range, pooling) and the view (an augmentation applied before the forward pass).
 * Embeddings with equal spaces are interchangeable, whichever run computed them.
 */
export interface EmbeddingSpace {
  backbone: string;
  layer: string;
  preprocessing: string;
}

/** A named, fixed augmentation: the same view of an image always gives the same embedding, so views can be cached. */
export interface EmbeddingView {
  name: string;
  plan: AugmentationPlan;
}

/** Pooled embeddings of images by content hash (sha256 of the encoded bytes), one vector per view name. */
export interface EmbeddingTable {
  space: EmbeddingSpace;
  dimension: number;
  vectors: Map<string, Map<string, Float32Array>>;
}

export const IDENTITY_VIEW: EmbeddingView = { name: 'identity', plan: IDENTITY_PLAN };

/**
 * The augmented views a training image contributes, from the augmentation settings: a mirror image and a zoom
 * (the centred crop keeping `cropScale` of each side) and its mirror. Brightness shifts are left out: pooled
 * features of a pretrained backbone barely move with them. Validation and prediction use the identity view only.
 */
export function embeddingViews(augmentation: boolean | AugmentationOptions): EmbeddingView[] {
  if (!augmentation) return [IDENTITY_VIEW];
  const { horizontalFlip = true, cropScale = 0.85 } = augmentation === true ? {} : augmentation;
  const views = [IDENTITY_VIEW];
  if (horizontalFlip) views.push({ name: 'mirror', plan: { ...IDENTITY_PLAN, flip: true } });
  if (cropScale < 1) {
    const margin = (1 - cropScale) / 2;
    const zoom: AugmentationPlan = {
      ...IDENTITY_PLAN,
      top: margin,
      left: margin,
      bottom: 1 - margin,
      right: 1 - margin,
    };
    views.push({ name: `zoom-${cropScale}`, plan: zoom });
    if (horizontalFlip) views.push({ name: `zoom-${cropScale}-mirror`, plan: { ...zoom, flip: true } });
  }
  return views;
}

/** The key of an image in an embedding table: the sha256 of its bytes (raw pixels hash with their shape). */
export function imageContentHash(image: ImageSource): string {
  const hash = createHash('sha256');
  if (image instanceof Uint8Array) return hash.update(image).digest('hex');
  return hash.update(`${image.width}x${image.height}x${image.channels}:`).update(image.pixels).digest('hex');
}

/** The space of a backbone layer's pooled activations on images stretched to the backbone's input size. */
export function embeddingSpaceOf(descriptor: BackboneDescriptor, layer = descriptor.embeddingLayer): EmbeddingSpace {
  const { id, inputSize, inputRange } = descriptor;
  return { backbone: id, layer, preprocessing: `resize-${inputSize}-fill-range-${inputRange.join('..')}-avgpool` };
}

/** Channels of a feature layer: the length of its pooled embedding. */
export function embeddingDimensionOf(descriptor: BackboneDescriptor, layer = descriptor.embeddingLayer): number {
  const feature = descriptor.featureLayers.find((candidate) => candidate.name === layer);
  if (!feature) throw new RangeError(`backbone '${descriptor.id}' lists no feature layer '${layer}'`);
  return feature.channels;
}

export function embeddingSpaceKey(space: EmbeddingSpace): string {
  return `${space.backbone}|${space.layer}|${space.preprocessing}`;
}

export function emptyEmbeddingTable(space: EmbeddingSpace, dimension: number): EmbeddingTable {
  return { space, dimension, vectors: new Map() };
}

/** Copies into `target` every vector of `sources` in the same space that `target` lacks. */
export function mergeEmbeddingTables(target: EmbeddingTable, sources: readonly EmbeddingTable[]): void {
  for (const source of sources) {
    if (embeddingSpaceKey(source.space) !== embeddingSpaceKey(target.space) || source.dimension !== target.dimension)
      continue;
    for (const [image, views] of source.vectors) {
      const into = target.vectors.get(image) ?? new Map<string, Float32Array>();
      for (const [view, vector] of views) if (!into.has(view)) into.set(view, vector);
      target.vectors.set(image, into);
    }
  }
}

export interface EmbeddingJob {
  hash: string;
  /** Decoded pixels at the backbone's input size, RGB, row-major. */
  pixels: Uint8Array;
}

/**
 * A batch of images at the backbone's input size as the runner takes them: [n, size, size, 3] float32 in the input
 * range, each image in its view. Identity views are scaled here in plain JavaScript (a copy through tfjs and back
 * cost more than the forward pass); other views go through tfjs's cropAndResize. Either way the values are those
 * tfjs computes in float32: x / 255, then x · (high − low) + low.
 */
async function backboneInput(
  images: readonly Uint8Array[],
  views: readonly EmbeddingView[],
  inputSize: number,
  inputRange: [number, number],
): Promise<Float32Array> {
  const imageLength = inputSize * inputSize * 3;
  const unit = new Float32Array(images.length * imageLength);
  images.forEach((pixels, position) => {
    for (let i = 0; i < imageLength; i++) unit[position * imageLength + i] = pixels[i] / 255;
  });
  const [low, high] = inputRange;
  if (views.every((view) => view === IDENTITY_VIEW)) {
    if (low === 0 && high === 1) return unit;
    const [scale, offset] = [Math.fround(high - low), Math.fround(low)];
    for (let i = 0; i < unit.length; i++) unit[i] = Math.fround(unit[i] * scale) + offset;
    return unit;
  }
  const input = tf.tidy(() => {
    const viewed = augmentBatch(
      tf.tensor4d(unit, [images.length, inputSize, inputSize, 3]),
      views.map((view) => view.plan),
    );
    return low === 0 && high === 1 ? viewed : tf.add(tf.mul(viewed, high - low), low);
  });
  const values = (await input.data()) as Float32Array;
  input.dispose();
  return values;
}

/**
 * Runs the backbone's runner on every (image, view) of `items` in batches and hands over each one's activations at
 * `layers` (one array per layer, [height, width, channels], channels last). Views are applied to the pixels before
 * the forward pass.
 */
export async function forEachFeatureMap<T extends { job: EmbeddingJob; view: EmbeddingView }>(
  backbone: Backbone,
  layers: readonly string[],
  items: readonly T[],
  batchSize: number,
  consume: (item: T, maps: Float32Array[]) => void,
  signal?: AbortSignal,
  /** Called after each batch with the number of items it held. */
  onBatchDone?: (count: number) => void,
): Promise<void> {
  if (items.length === 0) return;
  const { inputSize, inputRange } = backbone.descriptor;
  const runner = await backbone.createRunner(layers);
  try {
    for (let start = 0; start < items.length; start += batchSize) {
      signal?.throwIfAborted();
      const batch = items.slice(start, start + batchSize);
      const values = await backboneInput(
        batch.map(({ job }) => job.pixels),
        batch.map(({ view }) => view),
        inputSize,
        inputRange,
      );
      const outputs = await runner.run(values, batch.length);
      const sizes = outputs.map((output) => output.length / batch.length);
      batch.forEach((item, position) =>
        consume(
          item,
          outputs.map((output, layer) => output.slice(position * sizes[layer], (position + 1) * sizes[layer])),
        ),
      );
      onBatchDone?.(batch.length);
      // Let cancellation and progress messages through between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    runner.dispose();
  }
}

/**
 * Fills `table` with the pooled embedding of every (image, view) it lacks: batches of images go through the
 * backbone's runner (tfjs or a faster runtime) and each feature map is averaged over space.
 */
export async function computeEmbeddings(
  backbone: Backbone,
  table: EmbeddingTable,
  jobs: readonly EmbeddingJob[],
  views: readonly EmbeddingView[],
  batchSize: number,
  signal?: AbortSignal,
  onBatchDone?: (count: number) => void,
): Promise<number> {
  const missing: { job: EmbeddingJob; view: EmbeddingView }[] = [];
  const queued = new Set<string>();
  for (const job of jobs)
    for (const view of views) {
      const key = `${job.hash}\n${view.name}`;
      if (!table.vectors.get(job.hash)?.has(view.name) && !queued.has(key)) {
        queued.add(key);
        missing.push({ job, view });
      }
    }
  const channels = table.dimension;
  await forEachFeatureMap(
    backbone,
    [table.space.layer],
    missing,
    batchSize,
    ({ job, view }, [map]) => {
      const pooled = new Float32Array(channels);
      for (let i = 0; i < map.length; i++) pooled[i % channels] += map[i];
      const cells = map.length / channels;
      for (let c = 0; c < channels; c++) pooled[c] /= cells;
      const views = table.vectors.get(job.hash) ?? new Map<string, Float32Array>();
      views.set(view.name, pooled);
      table.vectors.set(job.hash, views);
    },
    signal,
    onBatchDone,
  );
  return missing.length;
}

/** An encoded image (its bytes hash to `hash`, the key of its embeddings). */
export interface EncodedImage {
  hash: string;
  bytes: Uint8Array;
}

/**
 * Fills `table` with the embeddings of encoded images it lacks in `views`: each image is decoded and stretched to
 * the backbone's input size, as training prepares it, so the vectors equal those a training run computes.
 */
export async function embedEncodedImages(
  backbone: Backbone,
  table: EmbeddingTable,
  images: readonly EncodedImage[],
  views: readonly EmbeddingView[],
  batchSize: number,
  signal?: AbortSignal,
): Promise<number> {
  const missing = images.filter((image) => views.some((view) => !table.vectors.get(image.hash)?.has(view.name)));
  const size = { width: backbone.descriptor.inputSize, height: backbone.descriptor.inputSize };
  const decodeBatch = (start: number): Promise<EmbeddingJob[]> => {
    const batch = missing.slice(start, start + batchSize);
    const decoding = decodeAll(batch.length, async (index) => ({
      hash: batch[index].hash,
      pixels: (await decodeResized(batch[index].bytes, size, 3)).pixels,
    }));
    // Awaited in the next round; handled now so that a failure while this batch runs is not an unhandled rejection.
    decoding.catch(() => undefined);
    return decoding;
  };
  let computed = 0;
  // Decoded a batch at a time (thousands of 224-px images at once would hold 150 KB each), the next batch while
  // this one runs through the backbone: decoding a photo costs about as much as its forward pass.
  let decoding = missing.length > 0 ? decodeBatch(0) : undefined;
  for (let start = 0; decoding; start += batchSize) {
    const jobs = await decoding;
    decoding = start + batchSize < missing.length ? decodeBatch(start + batchSize) : undefined;
    computed += await computeEmbeddings(backbone, table, jobs, views, batchSize, signal);
  }
  return computed;
}

interface TableHeader {
  format: 'diyml-embeddings';
  v: 1;
  space: EmbeddingSpace;
  dimension: number;
  /** Image hash and view name of each vector, in the order of the data that follows. */
  entries: [string, string][];
}

/** A table as bytes (a blob): a little-endian uint32 header length, the JSON header, then float32 vectors. */
export function encodeEmbeddingTable(table: EmbeddingTable): Uint8Array {
  const entries = [...table.vectors.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([image, views]) => [...views.keys()].sort().map((view) => [image, view] as [string, string]));
  const header: TableHeader = {
    format: 'diyml-embeddings',
    v: 1,
    space: table.space,
    dimension: table.dimension,
    entries,
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  // Vectors start on a 4-byte boundary so they can be read as a Float32Array in place.
  const headerLength = Math.ceil(headerBytes.length / 4) * 4;
  const bytes = new Uint8Array(4 + headerLength + entries.length * table.dimension * 4);
  new DataView(bytes.buffer).setUint32(0, headerLength, true);
  bytes.fill(0x20, 4, 4 + headerLength);
  bytes.set(headerBytes, 4);
  const data = new DataView(bytes.buffer, 4 + headerLength);
  entries.forEach(([image, view], index) => {
    const vector = table.vectors.get(image)!.get(view)!;
    for (let i = 0; i < table.dimension; i++) data.setFloat32((index * table.dimension + i) * 4, vector[i], true);
  });
  return bytes;
}

function readHeader(bytes: Uint8Array): { header: TableHeader; headerLength: number } {
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength))) as TableHeader;
  if (header.format !== 'diyml-embeddings' || header.v !== 1) throw new Error('not a diyml embedding table');
  return { header, headerLength };
}

/** The space and the (image hash, view name) of every vector of an encoded table, read from its header alone. */
export function embeddingTableEntries(bytes: Uint8Array): Pick<TableHeader, 'space' | 'dimension' | 'entries'> {
  const { space, dimension, entries } = readHeader(bytes).header;
  return { space, dimension, entries };
}

export function decodeEmbeddingTable(bytes: Uint8Array): EmbeddingTable {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { header, headerLength } = readHeader(bytes);
  const table = emptyEmbeddingTable(header.space, header.dimension);
  header.entries.forEach(([image, viewName], index) => {
    const vector = new Float32Array(header.dimension);
    const offset = 4 + headerLength + index * header.dimension * 4;
    for (let i = 0; i < header.dimension; i++) vector[i] = view.getFloat32(offset + i * 4, true);
    const views = table.vectors.get(image) ?? new Map<string, Float32Array>();
    views.set(viewName, vector);
    table.vectors.set(image, views);
  });
  return table;
}
