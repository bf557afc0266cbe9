import { Injectable } from '@nestjs/common';
import { BLOB_NOT_FOUND, BlobStore } from '@diyml/blobs';
import { type CommandMetadata, isDomainError } from '@diyml/core/pure';
import { CommandPipeline, EventStore, loadStream } from '@diyml/event-store';
import {
  type BackboneDescriptor,
  embeddingSpaceKey,
  encodeFeatureMapIndex,
  featureMapsFromBytes,
  featureMapsToBytes,
  IDENTITY_VIEW,
  readFeatureMapIndex,
  type EmbeddingSpace,
  type FeatureMapIndex,
  type ImageFeatureMaps,
} from '@diyml/ml';
import { BackboneCatalog } from '@diyml/projects';
import { embeddingCacheDecider } from '../domain/embedding-cache.decider.js';
import { embeddingCacheStream } from '../domain/embedding-cache.events.js';
import { iterationStream, type IterationCompleted, type IterationQueued } from '../domain/iteration.events.js';
import { iterationBackbone } from './iteration-backbone.js';
import { asSystemFollowUp, retryingLostTableRaces } from './table-update.js';

/** An iteration's cached feature maps of some images, each as it is (the identity view). */
export interface CachedFeatureMaps {
  space: EmbeddingSpace;
  /** Values of one image's maps. */
  dimension: number;
  /** By image sha256: those of the images asked for that have cached maps. */
  maps: Map<string, Float32Array>;
  /** The registered backbone frozen in the model, to compute the others' maps; null when it cannot be described. */
  backbone: { descriptor: BackboneDescriptor; cacheDirectory: string } | null;
}

/** Identity-view maps computed outside training (a test run), for the project's cache. */
export interface ComputedMaps {
  space: EmbeddingSpace;
  dimension: number;
  /** By image sha256. */
  maps: Map<string, Float32Array>;
}

/**
 * The feature-map cache for prediction. A completed backbone-detector iteration's index lists the maps its training
 * computed or reused, all from the backbone frozen in its model (same backbone and weights, input size, layers and
 * fitting), so its head reads them in place of a forward pass through that backbone. Maps computed for other photos
 * (a test run's) join the project's table of that space (an index like training's, recorded as
 * EmbeddingTableUpdated): later test runs read them, and later training reuses them as it reuses background tables.
 */
@Injectable()
export class IterationFeatureMaps {
  constructor(
    private readonly events: EventStore,
    private readonly blobs: BlobStore,
    private readonly pipeline: CommandPipeline,
    private readonly backbones: BackboneCatalog,
  ) {}

  /**
   * The identity-view maps of those of `images` the iteration's index or the project's table of its space holds,
   * each image's blob read once. Null when the iteration has no feature-map index (not a backbone detector, or not
   * completed). An image whose blob is gone (e.g. after a project import) or does not fit the index is left out: its
   * maps are computed again.
   */
  async identityMaps(
    projectId: string,
    iterationId: string,
    images: readonly string[],
  ): Promise<CachedFeatureMaps | null> {
    const recorded = await this.events.readStream(iterationStream(iterationId));
    const queued = recorded.find((event) => event.type === 'IterationQueued')?.data as
      IterationQueued['data'] | undefined;
    const completed = recorded.find((event) => event.type === 'IterationCompleted')?.data as
      IterationCompleted['data'] | undefined;
    if (!queued || !completed?.embeddingsSha256 || !(await this.blobs.has(completed.embeddingsSha256))) return null;
    const index = readFeatureMapIndex(new Uint8Array(await this.blobs.get(completed.embeddingsSha256)));
    if (!index) return null;
    const wanted = new Set(images);
    const maps = new Map<string, Float32Array>();
    const project = (await this.projectTable(projectId, index.space)).index;
    for (const source of [index, ...(project && project.dimension === index.dimension ? [project] : [])]) {
      for (const entry of source.images) {
        if (!wanted.has(entry[0]) || maps.has(entry[0])) continue;
        const identity = await this.identityMap(entry, index.dimension);
        if (identity) maps.set(entry[0], identity);
      }
    }
    const descriptor = await iterationBackbone(queued, this.blobs, this.backbones);
    return {
      space: index.space,
      dimension: index.dimension,
      maps,
      backbone: descriptor && { descriptor, cacheDirectory: this.backbones.cacheDirectory },
    };
  }

  /** Adds `computed` maps to the project's table of their space (one blob per image), recording the new table. */
  async store(
    projectId: string,
    { space, dimension, maps }: ComputedMaps,
    requestedBy: Omit<CommandMetadata, 'now'>,
  ): Promise<void> {
    const entries: ImageFeatureMaps[] = [];
    for (const [image, values] of maps)
      entries.push([image, (await this.blobs.put(featureMapsToBytes([values]))).sha256, [IDENTITY_VIEW.name]]);
    await retryingLostTableRaces(() => this.storeOnce(projectId, space, dimension, entries, requestedBy));
  }

  private async storeOnce(
    projectId: string,
    space: EmbeddingSpace,
    dimension: number,
    entries: readonly ImageFeatureMaps[],
    requestedBy: Omit<CommandMetadata, 'now'>,
  ): Promise<void> {
    const { stream, tableSha256, index } = await this.projectTable(projectId, space);
    const merged = new Map(
      (index && index.dimension === dimension ? index.images : []).map((entry) => [entry[0], entry] as const),
    );
    const added = entries.filter(([image]) => !merged.has(image));
    if (added.length === 0) return;
    for (const entry of added) merged.set(entry[0], entry);
    const stored = await this.blobs.put(encodeFeatureMapIndex(space, dimension, [...merged.values()]));
    await this.pipeline.on(stream, embeddingCacheDecider).run({
      context: asSystemFollowUp(requestedBy),
      command: (_, metadata) => ({
        type: 'UpdateEmbeddingTable',
        projectId,
        space,
        basedOn: tableSha256,
        tableSha256: stored.sha256,
        imageCount: merged.size,
        computed: added.length,
        metadata,
      }),
      waitForReadModels: false,
    });
  }

  /** The project's table of feature maps in `space`: its stream, current blob and index (null when none). */
  private async projectTable(
    projectId: string,
    space: EmbeddingSpace,
  ): Promise<{ stream: string; tableSha256: string | null; index: FeatureMapIndex | null }> {
    const stream = embeddingCacheStream(projectId, embeddingSpaceKey(space));
    const { state } = await loadStream(this.events, stream, embeddingCacheDecider);
    const index =
      state.tableSha256 && (await this.blobs.has(state.tableSha256))
        ? readFeatureMapIndex(new Uint8Array(await this.blobs.get(state.tableSha256)))
        : null;
    return { stream, tableSha256: state.tableSha256, index };
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
