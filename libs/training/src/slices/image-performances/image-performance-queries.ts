import { Injectable } from '@nestjs/common';
import { BlobStore } from '@diyml/blobs';
import { DomainError } from '@diyml/core/pure';
import { DEFAULT_METRICS_OPTIONS, parseEvaluation } from '../../jobs/evaluation.js';
import { parseManifest } from '../../manifest/dataset-manifest.js';
import { IterationQueries } from '../../read-models/iterations/iteration-queries.js';
import { type ImagePerformance, type ImagePerformanceFilter, imagePerformancesOf } from './image-performances.js';

/** Per-image validation results of a completed iteration, read from the blobs its IterationCompleted names. */
@Injectable()
export class ImagePerformanceQueries {
  constructor(
    private readonly iterations: IterationQueries,
    private readonly blobs: BlobStore,
  ) {}

  /**
   * Every matching validation image, in validation order. The threshold defaults to the metrics' (0 for
   * classification, 0.5 for detection). 409 ITERATION_NOT_COMPLETED, NO_VALIDATION_DATA or
   * IMAGE_PERFORMANCES_NOT_RECORDED when there is nothing to show.
   */
  async find(
    projectId: string,
    iterationId: string,
    filter: Omit<ImagePerformanceFilter, 'threshold'> & { threshold?: number },
  ): Promise<ImagePerformance[]> {
    const iteration = await this.iterations.get(projectId, iterationId);
    if (iteration.status !== 'completed') {
      throw DomainError.conflict(
        'ITERATION_NOT_COMPLETED',
        `The iteration is ${iteration.status}: per-image results exist once it completes.`,
      );
    }
    if (!iteration.evaluationSha256) {
      throw DomainError.conflict(
        'NO_VALIDATION_DATA',
        'The iteration had no validation images, so there are no per-image results.',
      );
    }
    const [evaluation, manifest] = await Promise.all([
      this.blobs.get(iteration.evaluationSha256).then((bytes) => parseEvaluation(bytes)),
      this.blobs.get(iteration.manifestSha256).then((bytes) => parseManifest(bytes)),
    ]);
    const threshold = filter.threshold ?? DEFAULT_METRICS_OPTIONS[evaluation.task].threshold;
    return imagePerformancesOf(evaluation, manifest.images, iteration.labels, { ...filter, threshold });
  }
}
