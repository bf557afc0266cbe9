import { Injectable } from '@nestjs/common';
import { BLOB_NOT_FOUND, BlobStore } from '@diyml/blobs';
import { isDomainError } from '@diyml/core/pure';
import { EventStore } from '@diyml/event-store';
import {
  featureMapsFromBytes,
  IDENTITY_VIEW,
  readFeatureMapIndex,
  type EmbeddingSpace,
  type ImageFeatureMaps,
} from '@diyml/ml';
import { iterationStream, type IterationCompleted } from '../domain/iteration.events.js';

/** An iteration's cached feature maps of some images, each as it is (the identity view). */
export interface CachedFeatureMaps {
  space: EmbeddingSpace;
  /** Values of one image's maps. */
  dimension: number;
  /** By image sha256: those of the images asked for that have cached maps. */
  maps: Map<string, Float32Array>;
}

/**
 * The read side of the feature-map cache for prediction: a completed backbone-detector iteration's index lists the
 * maps its training computed or reused, all from the backbone frozen in its model (same backbone and weights, input
 * size, layers and fitting), so its head reads them in place of a forward pass through that backbone.
 */
@Injectable()
export class IterationFeatureMaps {
  constructor(
    private readonly events: EventStore,
    private readonly blobs: BlobStore,
  ) {}

  /**
   * The identity-view maps of those of `images` the iteration's index holds, each image's blob read once. Null when
   * the iteration has no feature-map index (not a backbone detector, or not completed). An image whose blob is gone
   * (e.g. after a project import) or does not fit the index is left out: its maps are computed again.
   */
  async identityMaps(iterationId: string, images: readonly string[]): Promise<CachedFeatureMaps | null> {
    const recorded = await this.events.readStream(iterationStream(iterationId));
    const completed = recorded.find((event) => event.type === 'IterationCompleted')?.data as
      IterationCompleted['data'] | undefined;
    if (!completed?.embeddingsSha256 || !(await this.blobs.has(completed.embeddingsSha256))) return null;
    const index = readFeatureMapIndex(new Uint8Array(await this.blobs.get(completed.embeddingsSha256)));
    if (!index) return null;
    const wanted = new Set(images);
    const maps = new Map<string, Float32Array>();
    for (const entry of index.images) {
      if (!wanted.has(entry[0])) continue;
      const identity = await this.identityMap(entry, index.dimension);
      if (identity) maps.set(entry[0], identity);
    }
    return { space: index.space, dimension: index.dimension, maps };
  }

  /**
   * The identity view's map from an image's blob, reading the blob only up to its end: training writes the views in
   * name order, so 'identity' comes before the 'plan:…' views and a quarter of a training image's blob is read.
   */
  private async identityMap([, blob, views]: ImageFeatureMaps, dimension: number): Promise<Float32Array | null> {
    const position = views.indexOf(IDENTITY_VIEW.name);
    if (position < 0) return null;
    const mapBytes = dimension * 4;
    let read;
    try {
      read = await this.blobs.getStream(blob);
    } catch (error) {
      if (isDomainError(error, BLOB_NOT_FOUND)) return null;
      throw error;
    }
    const { bytes, stream } = read;
    if (bytes !== mapBytes * views.length) {
      stream.destroy();
      return null;
    }
    const wanted = mapBytes * (position + 1);
    const chunks: Buffer[] = [];
    let length = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        length += chunk.byteLength;
        if (length >= wanted) break;
      }
    } finally {
      stream.destroy();
    }
    if (length < wanted) return null;
    const prefix = new Uint8Array(Buffer.concat(chunks, wanted));
    return featureMapsFromBytes(prefix.subarray(position * mapBytes), dimension, 1)?.[0] ?? null;
  }
}
