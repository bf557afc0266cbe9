import { Injectable, Logger } from '@nestjs/common';
import { BlobStore } from '../../../blobs/src/index.js';
import { Clock, type CommandMetadata } from '../../../core/src/index.js';
import { decideAndAppend, EventStore, loadStream } from '../../../event-store/src/index.js';
import { type JobProcessor, JobProcessorProvider, UnrecoverableJobError } from '../../../jobs/src/index.js';
import {
  type AugmentationOptions,
  BackboneError,
  embeddingSpaceKey,
  embeddingSpaceOf,
  embeddingTableEntries,
  embeddingViews,
  type EncodedImage,
} from '../../../ml/src/index.js';
import { BackboneCatalog } from '../../../projects/src/index.js';
import { embeddingCacheDecider } from '../domain/embedding-cache.decider.js';
import { embeddingCacheStream } from '../domain/embedding-cache.events.js';
import { embedOnWorkerThread } from '../worker/embedding-thread.js';

export const EMBEDDING_QUEUE = 'embeddings';

export interface EmbeddingJobPayload {
  v: 1;
  projectId: string;
  /** The project's backbone setting (null: the default backbone). */
  backbone: string | null;
  /** The project's augmentation setting: which views of each image training will want. */
  augmentation: boolean | AugmentationOptions;
  /** sha256 of the images to have embeddings for. */
  images: string[];
  requestedBy: Omit<CommandMetadata, 'now'>;
}

/**
 * Computes, in the background, the embeddings a backbone iteration of the project will need, so training finds
 * them done: reads the project's current table for the space, embeds the images it lacks on a worker thread and
 * records the new table (EmbeddingTableUpdated). A table written meanwhile by another job makes the append fail;
 * the retry builds on it and embeds only what is still missing.
 */
@JobProcessorProvider()
@Injectable()
export class EmbeddingJobProcessor implements JobProcessor<EmbeddingJobPayload> {
  readonly queue = EMBEDDING_QUEUE;
  private readonly logger = new Logger(EmbeddingJobProcessor.name);

  constructor(
    private readonly events: EventStore,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly backbones: BackboneCatalog,
  ) {}

  async process({ projectId, backbone: backboneId, augmentation, images, requestedBy }: EmbeddingJobPayload): Promise<void> {
    let descriptor;
    try {
      descriptor = this.backbones.describe(backboneId);
    } catch (error) {
      // A backbone removed from the configuration since: training will refuse it with a clear error; nothing to cache.
      if (error instanceof BackboneError) throw new UnrecoverableJobError(error.message);
      throw error;
    }
    const space = embeddingSpaceOf(descriptor);
    const stream = embeddingCacheStream(projectId, embeddingSpaceKey(space));
    const { state } = await loadStream(this.events, stream, embeddingCacheDecider);
    const table = state.tableSha256 ? new Uint8Array(await this.blobs.get(state.tableSha256)) : null;
    const present = new Set(table ? embeddingTableEntries(table).entries.map(([image, view]) => `${image}\n${view}`) : []);
    const views = embeddingViews(augmentation);
    const missing = [...new Set(images)].filter((image) => views.some((view) => !present.has(`${image}\n${view.name}`)));
    if (missing.length === 0) return;

    const encoded: EncodedImage[] = [];
    for (const hash of missing) {
      // An image removed since it was uploaded may have lost its blob: nothing to embed.
      if (await this.blobs.has(hash)) encoded.push({ hash, bytes: new Uint8Array(await this.blobs.get(hash)) });
    }
    const result = await embedOnWorkerThread({ backbone: descriptor, cacheDirectory: this.backbones.cacheDirectory, augmentation, table, images: encoded });
    const stored = await this.blobs.put(result.table);
    const metadata = { ...requestedBy, now: this.clock.now() };
    await decideAndAppend(
      this.events,
      stream,
      embeddingCacheDecider,
      { type: 'UpdateEmbeddingTable', projectId, space, basedOn: state.tableSha256, tableSha256: stored.sha256, imageCount: result.imageCount, computed: result.computed, metadata },
      metadata,
    );
    this.logger.debug(`Embedded ${result.computed} image views of project ${projectId} on ${descriptor.id}`);
  }

  async failed({ projectId }: EmbeddingJobPayload, error: Error): Promise<void> {
    // Nothing to record: training computes whatever the cache lacks.
    this.logger.warn(`Background embeddings of project ${projectId} failed: ${error.message}`);
  }
}
