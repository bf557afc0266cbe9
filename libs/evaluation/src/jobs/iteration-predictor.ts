import { Injectable, Logger } from '@nestjs/common';
import { BlobStore } from '@diyml/blobs';
import type { CommandMetadata } from '@diyml/core/pure';
import type { Prediction, PredictOptions } from '@diyml/ml';
import { EmbeddingCancelled, IterationFeatureMaps, ProjectEmbeddings } from '@diyml/training';
import {
  PredictionCancelled,
  predictFromEmbeddingsOnThread,
  predictFromFeatureMapsOnThread,
  predictOnThread,
} from '../worker/test-run-thread.js';

export interface PredictionRequest {
  projectId: string;
  iterationId: string;
  modelSha256: string;
  /** sha256 of the images, in the order of the predictions. */
  images: readonly string[];
  options: PredictOptions;
  requestedBy: Omit<CommandMetadata, 'now'>;
  signal?: AbortSignal;
}

export interface PredictionOutcome {
  predictions: Prediction[][];
  backend: string;
  /**
   * Backbone models: images whose embeddings (backbone-classifier) or feature maps (backbone-detector) went through
   * the backbone for this run, and those taken from a cache instead.
   */
  embeddings: { computed: number; reused: number } | null;
}

/**
 * Runs an iteration's model on images off the event loop. A 'backbone-classifier' model on a frozen backbone
 * predicts from the images' embeddings: those in the project's cache (or the iteration's own table) are reused, the
 * others computed once and added to the cache, so the same photos are never embedded twice. A 'backbone-detector'
 * model's head predicts from the images' feature maps: those its training cached or the project's table holds, the
 * others computed by its backbone and added to the project's table, so the same photos go through the backbone once
 * (the whole model predicts them when that backbone cannot be loaded). Any other model (or when the embeddings cannot
 * be had) predicts from the images.
 */
@Injectable()
export class IterationPredictor {
  private readonly logger = new Logger(IterationPredictor.name);

  constructor(
    private readonly blobs: BlobStore,
    private readonly embeddings: ProjectEmbeddings,
    private readonly featureMaps: IterationFeatureMaps,
  ) {}

  async predict(request: PredictionRequest): Promise<PredictionOutcome> {
    const modelZip = new Uint8Array(await this.blobs.get(request.modelSha256));
    const fromEmbeddings = await this.predictFromEmbeddings(modelZip, request);
    if (fromEmbeddings) return fromEmbeddings;
    const images = await Promise.all(
      request.images.map(async (sha256) => new Uint8Array(await this.blobs.get(sha256))),
    );
    const cached = await this.featureMaps.identityMaps(request.projectId, request.iterationId, request.images);
    if (cached) {
      const { featureMaps, computedMaps, ...outcome } = await predictFromFeatureMapsOnThread(
        modelZip,
        images,
        {
          space: cached.space,
          dimension: cached.dimension,
          maps: request.images.map((sha256) => cached.maps.get(sha256) ?? null),
          backbone: cached.backbone,
        },
        request.options,
        request.signal,
      );
      if (computedMaps)
        await this.featureMaps.store(
          request.projectId,
          {
            space: computedMaps.space,
            dimension: computedMaps.dimension,
            maps: new Map(computedMaps.maps.map(({ index, maps }) => [request.images[index], maps])),
          },
          request.requestedBy,
        );
      return { ...outcome, embeddings: featureMaps ?? null };
    }
    return { ...(await predictOnThread(modelZip, images, request.options, request.signal)), embeddings: null };
  }

  private async predictFromEmbeddings(
    modelZip: Uint8Array,
    { projectId, iterationId, images, options, requestedBy, signal }: PredictionRequest,
  ): Promise<PredictionOutcome | null> {
    const headInput = await this.embeddings.headInputOf(iterationId);
    if (!headInput) return null;
    let found;
    try {
      const alsoFrom = headInput.iterationTableSha256 ? [headInput.iterationTableSha256] : [];
      found = await this.embeddings.identityVectors({
        projectId,
        backbone: headInput.backbone,
        images,
        alsoFrom,
        requestedBy,
        signal,
      });
    } catch (error) {
      if (error instanceof EmbeddingCancelled) throw new PredictionCancelled();
      // The model holds its backbone's weights: it still predicts when the registered backbone cannot be loaded.
      this.logger.warn(
        `Embeddings for iteration ${iterationId} could not be had (${(error as Error).message}); predicting from the images`,
      );
      return null;
    }
    const outcome = await predictFromEmbeddingsOnThread(modelZip, found.vectors, options, signal);
    return { ...outcome, embeddings: { computed: found.computed, reused: found.reused } };
  }
}
