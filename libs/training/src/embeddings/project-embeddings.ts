import { Injectable } from '@nestjs/common';
import { BlobStore } from '@diyml/blobs';
import type { CommandMetadata } from '@diyml/core/pure';
import { CommandPipeline, EventStore, loadStream } from '@diyml/event-store';
import {
  type AugmentationOptions,
  type BackboneDescriptor,
  decodeEmbeddingTable,
  embeddingSpaceKey,
  embeddingSpaceOf,
  embeddingTableEntries,
  embeddingViews,
  type EncodedImage,
} from '@diyml/ml';
import { BackboneCatalog } from '@diyml/projects';
import { embeddingCacheDecider } from '../domain/embedding-cache.decider.js';
import { embeddingCacheStream } from '../domain/embedding-cache.events.js';
import { iterationStream, type IterationCompleted, type IterationQueued } from '../domain/iteration.events.js';
import { iterationBackbone } from './iteration-backbone.js';
import { asSystemFollowUp, retryingLostTableRaces } from './table-update.js';
import { embedOnWorkerThread } from '../worker/embedding-thread.js';

export { EmbeddingCancelled } from '../worker/embedding-thread.js';

export interface EmbeddingUpdate {
  projectId: string;
  backbone: BackboneDescriptor;
  /** Which views of each image are wanted (the training configuration's augmentation); false: the image as it is. */
  augmentation: boolean | AugmentationOptions;
  /** sha256 of the images to have embeddings for. */
  images: readonly string[];
  /** Other tables (blob sha256) whose vectors count as present: read, never copied into the project's table. */
  alsoFrom?: readonly string[];
  requestedBy: Omit<CommandMetadata, 'now'>;
  signal?: AbortSignal;
}

/** The backbone whose pooled embeddings a model's head takes unchanged, and the table its training used. */
export interface HeadInput {
  backbone: BackboneDescriptor;
  iterationTableSha256: string | null;
}

/**
 * The project's embedding cache, one table per (project, embedding space) recorded as EmbeddingTableUpdated: brings
 * it up to date for some images (computing only the missing vectors, on a worker thread) and reads vectors from it.
 * Background embeddings, test runs and label suggestions fill and reuse the same tables; training reuses them too.
 */
@Injectable()
export class ProjectEmbeddings {
  constructor(
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly blobs: BlobStore,
    private readonly backbones: BackboneCatalog,
  ) {}

  /**
   * The backbone a completed iteration's model reads embeddings of, when its head alone can predict from cached
   * embeddings: a 'backbone-classifier' on a frozen backbone (registered, or another iteration's model). Null for
   * any other model, a fine-tuned one, or a backbone no longer registered (the whole model then predicts).
   */
  async headInputOf(iterationId: string): Promise<HeadInput | null> {
    const recorded = await this.events.readStream(iterationStream(iterationId));
    const queued = recorded.find((event) => event.type === 'IterationQueued')?.data as
      IterationQueued['data'] | undefined;
    const completed = recorded.find((event) => event.type === 'IterationCompleted')?.data as
      IterationCompleted['data'] | undefined;
    if (!queued || !completed || queued.architecture !== 'backbone-classifier') return null;
    if ((queued.trainingConfig.fineTune ?? 0) > 0) return null;
    const backbone = await iterationBackbone(queued, this.blobs, this.backbones);
    if (!backbone) return null;
    return { backbone, iterationTableSha256: completed.embeddingsSha256 ?? null };
  }

  /**
   * Makes the project's table hold every wanted view of `images` (unless `alsoFrom` has it), computing what is
   * missing and recording the new table. Returns the table (its encoded bytes, or null when the project has none) and
   * the (image × view) vectors computed. An image whose blob is gone is left out.
   */
  async update(request: EmbeddingUpdate): Promise<{ table: Uint8Array | null; computed: number }> {
    return retryingLostTableRaces(() => this.updateOnce(request));
  }

  /**
   * The embedding of each of `images` as it is (no augmented view), from the project's table or `alsoFrom`, after
   * computing and recording those neither has; `computed` of them were computed now, the others reused.
   */
  async identityVectors(
    request: Omit<EmbeddingUpdate, 'augmentation'>,
  ): Promise<{ vectors: Float32Array[]; computed: number; reused: number }> {
    const { table, computed } = await this.update({ ...request, augmentation: false });
    const space = embeddingSpaceKey(embeddingSpaceOf(request.backbone));
    const [identity] = embeddingViews(false);
    const sources = [
      ...(table ? [table] : []),
      ...(await Promise.all(
        (request.alsoFrom ?? []).map(async (sha256) => new Uint8Array(await this.blobs.get(sha256))),
      )),
    ]
      .map((bytes) => decodeEmbeddingTable(bytes))
      .filter((source) => embeddingSpaceKey(source.space) === space);
    const vectors = request.images.map((image) => {
      for (const source of sources) {
        const vector = source.vectors.get(image)?.get(identity.name);
        if (vector) return vector;
      }
      throw new Error(`no embedding of image ${image} could be computed: its blob is missing`);
    });
    return { vectors, computed, reused: new Set(request.images).size - computed };
  }

  private async updateOnce({
    projectId,
    backbone,
    augmentation,
    images,
    alsoFrom = [],
    requestedBy,
    signal,
  }: EmbeddingUpdate): Promise<{ table: Uint8Array | null; computed: number }> {
    const space = embeddingSpaceOf(backbone);
    const stream = embeddingCacheStream(projectId, embeddingSpaceKey(space));
    const { state } = await loadStream(this.events, stream, embeddingCacheDecider);
    const table = state.tableSha256 ? new Uint8Array(await this.blobs.get(state.tableSha256)) : null;
    const present = new Set<string>();
    for (const bytes of [
      ...(table ? [table] : []),
      ...(await Promise.all(alsoFrom.map(async (sha256) => new Uint8Array(await this.blobs.get(sha256))))),
    ]) {
      const entries = embeddingTableEntries(bytes);
      if (embeddingSpaceKey(entries.space) !== embeddingSpaceKey(space)) continue;
      for (const [image, view] of entries.entries) present.add(`${image}\n${view}`);
    }
    const views = embeddingViews(augmentation);
    const missing = [...new Set(images)].filter((image) =>
      views.some((view) => !present.has(`${image}\n${view.name}`)),
    );
    if (missing.length === 0) return { table, computed: 0 };

    const encoded: EncodedImage[] = [];
    for (const hash of missing) {
      // An image removed since it was uploaded may have lost its blob: nothing to embed.
      if (await this.blobs.has(hash)) encoded.push({ hash, bytes: new Uint8Array(await this.blobs.get(hash)) });
    }
    if (encoded.length === 0) return { table, computed: 0 };
    const result = await embedOnWorkerThread(
      { backbone, cacheDirectory: this.backbones.cacheDirectory, augmentation, table, images: encoded },
      signal,
    );
    const stored = await this.blobs.put(result.table);
    await this.pipeline.on(stream, embeddingCacheDecider).run({
      context: asSystemFollowUp(requestedBy),
      command: (_, metadata) => ({
        type: 'UpdateEmbeddingTable',
        projectId,
        space,
        basedOn: state.tableSha256,
        tableSha256: stored.sha256,
        imageCount: result.imageCount,
        computed: result.computed,
        metadata,
      }),
      waitForReadModels: false,
    });
    return { table: result.table, computed: result.computed };
  }
}
