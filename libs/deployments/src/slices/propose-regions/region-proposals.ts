import { Injectable } from '@nestjs/common';
import { BlobStore } from '@diyml/blobs';
import { DomainError } from '@diyml/core/pure';
import { DatasetQueries } from '@diyml/datasets';
import { nonMaxSuppression } from '@diyml/ml';
import { ProjectAccess } from '@diyml/projects';
import { IterationQueries, type IterationView } from '@diyml/training';
import { PredictionService } from '../predict/prediction.service.js';
import { BackboneRegionProposals } from './backbone-region-proposals.js';

export interface RegionProposal {
  /** The detector's confidence that an object (of any label) is in the box. */
  confidence: number;
  box: { x: number; y: number; width: number; height: number };
}

export interface RegionProposalsResult {
  projectId: string;
  imageId: string;
  /** 'detector': the project's trained detector proposed the boxes; 'backbone': none is trained yet, the pretrained backbone's saliency did. */
  source: 'detector' | 'backbone';
  /** The detector iteration that proposed the boxes; null when they come from the backbone. */
  iterationId: string | null;
  proposals: RegionProposal[];
}

/** Lower than a prediction's default 0.25: proposals are candidates for a person to confirm. */
const PROPOSAL_THRESHOLD = 0.05;
/** Boxes of different labels overlapping more than this are one candidate object. */
const SAME_OBJECT_IOU = 0.7;
const MAX_PROPOSALS = 50;

/**
 * Candidate boxes for an image of a detection project, whatever their label: the boxes the project's newest
 * completed detector (or the iteration asked for) finds above a low threshold, merged across labels. Before any
 * detector is trained, boxes around what the pretrained backbone finds salient (BackboneRegionProposals), so the
 * first images can be labeled faster too.
 */
@Injectable()
export class RegionProposals {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly datasets: DatasetQueries,
    private readonly iterations: IterationQueries,
    private readonly blobs: BlobStore,
    private readonly predictions: PredictionService,
    private readonly backbone: BackboneRegionProposals,
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
    if (!detector)
      return {
        projectId,
        imageId,
        source: 'backbone',
        iterationId: null,
        proposals: await this.backbone.propose(bytes),
      };
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
    return { projectId, imageId, source: 'detector', iterationId: detector.id, proposals };
  }

  /** The iteration asked for (it must be completed), else the newest completed one, else none. */
  private async detector(projectId: string, iterationId: string | undefined): Promise<IterationView | undefined> {
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
    return (await this.iterations.listAll(projectId)).find(
      (iteration) => iteration.status === 'completed' && iteration.model,
    );
  }
}
