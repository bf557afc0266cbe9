import { Injectable, Logger } from '@nestjs/common';
import type { CommandMetadata } from '@diyml/core/pure';
import { type JobProcessor, JobProcessorProvider, UnrecoverableJobError } from '@diyml/jobs';
import { type AugmentationOptions, BackboneError } from '@diyml/ml';
import { BackboneCatalog } from '@diyml/projects';
import { ProjectEmbeddings } from '../embeddings/project-embeddings.js';

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
 * them done: the project's table for the space gets the images it lacks, embedded on a worker thread, and is
 * recorded again (EmbeddingTableUpdated). A table written meanwhile by another writer is built on again. A lost job
 * (Redis flushed) leaves nothing waiting, so it has no LostJobRecoverer: no read model shows it queued, and training
 * embeds whatever the cache lacks.
 */
@JobProcessorProvider()
@Injectable()
export class EmbeddingJobProcessor implements JobProcessor<EmbeddingJobPayload> {
  readonly queue = EMBEDDING_QUEUE;
  private readonly logger = new Logger(EmbeddingJobProcessor.name);

  constructor(
    private readonly backbones: BackboneCatalog,
    private readonly embeddings: ProjectEmbeddings,
  ) {}

  async process({
    projectId,
    backbone: backboneId,
    augmentation,
    images,
    requestedBy,
  }: EmbeddingJobPayload): Promise<void> {
    let backbone;
    try {
      backbone = this.backbones.describe(backboneId);
    } catch (error) {
      // A backbone removed from the configuration since: training will refuse it with a clear error; nothing to cache.
      if (error instanceof BackboneError) throw new UnrecoverableJobError(error.message);
      throw error;
    }
    const { computed } = await this.embeddings.update({ projectId, backbone, augmentation, images, requestedBy });
    if (computed > 0) this.logger.debug(`Embedded ${computed} image views of project ${projectId} on ${backbone.id}`);
  }

  async failed({ projectId }: EmbeddingJobPayload, error: Error): Promise<void> {
    // Nothing to record: training computes whatever the cache lacks.
    this.logger.warn(`Background embeddings of project ${projectId} failed: ${error.message}`);
  }
}
