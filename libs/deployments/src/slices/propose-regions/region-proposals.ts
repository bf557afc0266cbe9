import { Injectable } from '@nestjs/common';
import { BlobStore } from '@diyml/blobs';
import { DomainError } from '@diyml/core/pure';
import { DatasetQueries } from '@diyml/datasets';
import { nonMaxSuppression } from '@diyml/ml';
import { ProjectAccess } from '@diyml/projects';
import { IterationQueries, type IterationView } from '@diyml/training';
import { PredictionService } from '../predict/prediction.service.js';

export interface RegionProposal {
  /** The detector's confidence that an object (of any label) is in the box. */
  confidence: number;
  box: { x: number; y: number; width: number; height: number };
}

export interface RegionProposalsResult {
  projectId: string;
  imageId: string;
  /** The detector iteration that proposed the boxes. */
  iterationId: string;
  proposals: RegionProposal[];
}

/** Lower than a prediction's default 0.25: proposals are candidates for a person to confirm. */
const PROPOSAL_THRESHOLD = 0.05;
/** Boxes of different labels overlapping more than this are one candidate object. */
const SAME_OBJECT_IOU = 0.7;
const MAX_PROPOSALS = 50;

/**
 * Candidate boxes for an image of a detection project, whatever their label: the boxes the project's newest
 * completed detector (or the iteration asked for) finds above a low threshold, merged across labels.
 */
@Injectable()
export class RegionProposals {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly datasets: DatasetQueries,
    private readonly iterations: IterationQueries,
    private readonly blobs: BlobStore,
    private readonly predictions: PredictionService,
  ) {}

  async propose(
    projectId: string,
    imageId: string,
    userId: string,
    iterationId?: string,
  ): Promise<RegionProposalsResult> {
    const project = await this.projects.getOwned(projectId, userId);
    if (project.type !== 'detection') {
      throw DomainError.validation(
        'WRONG_PROJECT_TYPE',
        'Region proposals belong to detection projects; this is a classification project.',
      );
    }
    const image = await this.datasets.get(projectId, imageId);
    const detector = await this.detector(projectId, iterationId);
    const bytes = await this.blobs.get(image.sha256);
    const found = await this.predictions.predict(
      detector.model!.sha256,
      detector.labels.map((label) => label.name),
      bytes,
      {
        threshold: PROPOSAL_THRESHOLD,
        maxResults: MAX_PROPOSALS * 4,
      },
    );
    const boxes = found.flatMap((prediction) =>
      prediction.box ? [{ ...prediction.box, label: 0, score: prediction.probability }] : [],
    );
    const proposals = nonMaxSuppression(boxes, SAME_OBJECT_IOU, MAX_PROPOSALS).map(
      ({ x, y, width, height, score }) => ({
        confidence: score,
        box: { x, y, width, height },
      }),
    );
    return { projectId, imageId, iterationId: detector.id, proposals };
  }

  private async detector(projectId: string, iterationId: string | undefined): Promise<IterationView> {
    if (iterationId) {
      const iteration = await this.iterations.get(projectId, iterationId);
      if (iteration.status !== 'completed' || !iteration.model) {
        throw DomainError.conflict(
          'ITERATION_NOT_COMPLETED',
          `Iteration ${iterationId} is ${iteration.status}: proposals need a trained detector.`,
        );
      }
      return iteration;
    }
    const newest = (await this.iterations.listAll(projectId)).find(
      (iteration) => iteration.status === 'completed' && iteration.model,
    );
    if (!newest) {
      throw DomainError.conflict(
        'NO_TRAINED_DETECTOR',
        'The project has no trained detector yet: train an iteration, then ask for proposals.',
      );
    }
    return newest;
  }
}
