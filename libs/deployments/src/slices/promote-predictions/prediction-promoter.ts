import { Injectable } from '@nestjs/common';
import { BlobStore } from '@diyml/blobs';
import { Clock, DomainError, type RequestContext } from '@diyml/core';
import { resolveLabel, resolveLabels, validateRegions } from '@diyml/datasets';
import { ImageIntake } from '@diyml/datasets';
import { CommandPipeline } from '@diyml/event-store';
import { MULTILABEL_THRESHOLD } from '@diyml/ml/pure';
import type { ProjectView } from '@diyml/projects';
import { IterationQueries } from '@diyml/training';
import { DeploymentErrors } from '../../domain/deployment-errors.js';
import { labelsByIteration, type NamedLabel } from '../../read-models/stored-predictions/labels-by-iteration.js';
import { storedPredictionDecider } from '../../domain/stored-prediction.decider.js';
import { storedPredictionStream } from '../../domain/stored-prediction.events.js';
import { StoredPredictionQueries } from '../../read-models/stored-predictions/stored-prediction-queries.js';
import type { StoredPredictionView } from '../../read-models/stored-predictions/stored-prediction.view.js';
import { PredictionKeeper } from '../store-prediction/prediction-keeper.js';

/** Without corrected boxes, a detection is promoted with the predicted boxes at least this probable. */
export const PREDICTED_BOX_THRESHOLD = 0.5;

export interface Promotion {
  predictionId: string;
  /** Classification: the right label (name or id); undefined takes the top prediction, null adds the image unlabeled. */
  label?: string | null;
  /** Multilabel: the right labels (names or ids); undefined takes the labels predicted ≥ MULTILABEL_THRESHOLD. */
  labels?: string[];
  /** Detection: the right boxes (label name or id each); undefined takes the predicted boxes ≥ PREDICTED_BOX_THRESHOLD. */
  regions?: { label: string; x: number; y: number; width: number; height: number }[];
  split?: 'train' | 'test';
}

export interface PromotionResult {
  predictionId: string;
  status: 'created' | 'duplicate' | 'rejected';
  imageId?: string;
  error?: { code: string; message: string };
}

/**
 * Turns stored predictions into training data: each image is uploaded to the project's dataset (the same
 * checks, duplicate detection and events as any upload) with the corrected label or boxes, and the stored
 * prediction records the image it became (StoredPredictionPromoted), in the same correlation. Every item is
 * checked before anything is added (404 PREDICTION_NOT_FOUND, 409 PREDICTION_ALREADY_PROMOTED, 400 UNKNOWN_LABEL,
 * 400 WRONG_PROJECT_TYPE).
 */
@Injectable()
export class PredictionPromoter {
  constructor(
    private readonly stored: StoredPredictionQueries,
    private readonly blobs: BlobStore,
    private readonly intake: ImageIntake,
    private readonly pipeline: CommandPipeline,
    private readonly clock: Clock,
    private readonly keeper: PredictionKeeper,
    private readonly iterations: IterationQueries,
  ) {}

  async promote(
    project: ProjectView,
    promotions: readonly Promotion[],
    context: RequestContext & { userId: string },
  ): Promise<PromotionResult[]> {
    await this.keeper.written();
    const ids = promotions.map((item) => item.predictionId);
    if (new Set(ids).size !== ids.length) {
      throw DomainError.validation('DUPLICATE_PREDICTION', 'Each stored prediction may appear once in items.');
    }
    const labelsOf = await labelsByIteration(this.iterations, project.id, project.labels);
    const planned = [];
    for (const item of promotions) {
      const view = await this.stored.get(project.id, item.predictionId);
      if (view.promotedImageId) {
        throw DomainError.conflict(
          DeploymentErrors.PREDICTION_ALREADY_PROMOTED,
          `Prediction ${view.id} is in the dataset already, as image ${view.promotedImageId}.`,
          {
            predictionId: view.id,
            imageId: view.promotedImageId,
          },
        );
      }
      const predicted = predictedLabel(project, labelsOf(view.iterationId));
      planned.push({ view, split: item.split ?? 'train', ...correction(project, view, item, predicted) });
    }
    const files = await Promise.all(
      planned.map(async ({ view, labelId, labelIds, regions, split }) => ({
        filename: `prediction-${view.id}`,
        bytes: await this.blobs.get(view.imageSha256),
        labelId,
        ...(labelIds ? { labelIds } : {}),
        regions: regions ?? undefined,
        split,
      })),
    );
    const intake = await this.intake.withRoom({ projectId: project.id, ownerId: project.ownerId }, files.length, () =>
      this.intake.intake(project, files, context),
    );
    const now = this.clock.now();
    let position = -1;
    const results: PromotionResult[] = [];
    for (const [index, { view, labelId, regions }] of planned.entries()) {
      const result = intake[index];
      results.push({
        predictionId: view.id,
        status: result.status,
        ...(result.id ? { imageId: result.id } : {}),
        ...(result.error ? { error: result.error } : {}),
      });
      if (result.status !== 'created' || !result.id) continue;
      const imageId = result.id;
      const appended = await this.pipeline.on(storedPredictionStream(view.id), storedPredictionDecider).run({
        context: { ...context, now },
        command: (_, metadata) => ({ type: 'RecordPromotion', imageId, labelId, regions, metadata }),
        waitForReadModels: false,
      });
      position = Math.max(position, appended.position);
    }
    await this.pipeline.waitFor(position);
    return results;
  }
}

/**
 * What a predicted label name refers to: the id of the label of that name among `labels`, those its stored prediction
 * is named by (the owner may have renamed them since); the name itself when the project no longer has that label
 * (UNKNOWN_LABEL then says which).
 */
function predictedLabel(project: ProjectView, labels: readonly NamedLabel[]): (name: string) => string {
  const current = new Set(project.labels.map((label) => label.id));
  const ids = new Map(labels.filter((label) => current.has(label.id)).map((label) => [label.name, label.id]));
  return (name) => ids.get(name) ?? name;
}

/** The label or boxes to record: the corrected ones, else what the model predicted. */
function correction(
  project: ProjectView,
  view: StoredPredictionView,
  item: Promotion,
  predicted: (name: string) => string,
): {
  labelId: string | null;
  /** Multilabel: the image's labels (the stored prediction's record names none of them: `labelId` is null). */
  labelIds?: string[];
  regions: { labelId: string; x: number; y: number; width: number; height: number }[] | null;
} {
  if (project.type === 'multilabel') {
    if (item.regions || item.label)
      throw DomainError.validation(
        'WRONG_PROJECT_TYPE',
        'A multilabel image takes `labels` (names or ids), not a single label or boxes.',
      );
    const names =
      item.labels ??
      view.predictions
        .filter((prediction) => prediction.probability >= MULTILABEL_THRESHOLD)
        .map((prediction) => predicted(prediction.label));
    return { labelId: null, labelIds: resolveLabels(project.labels, names).map((label) => label.id), regions: null };
  }
  if (project.type === 'classification') {
    if (item.regions)
      throw DomainError.validation('WRONG_PROJECT_TYPE', 'Boxes belong to detection projects: give `label`.');
    if (item.label === null) return { labelId: null, regions: null };
    const top = view.predictions[0]?.label;
    const reference = item.label ?? (top === undefined ? undefined : predicted(top));
    if (!reference)
      throw DomainError.validation('LABEL_REQUIRED', `Prediction ${view.id} has no label to take: give \`label\`.`);
    return { labelId: resolveLabel(project.labels, reference).id, regions: null };
  }
  if (item.label)
    throw DomainError.validation(
      'WRONG_PROJECT_TYPE',
      'A whole-image label belongs to classification projects: give `regions`.',
    );
  const boxes =
    item.regions ??
    view.predictions
      .filter((prediction) => prediction.box && prediction.probability >= PREDICTED_BOX_THRESHOLD)
      .map((prediction) => ({ label: predicted(prediction.label), ...prediction.box! }));
  const regions = boxes.map(({ label, x, y, width, height }) => ({
    labelId: resolveLabel(project.labels, label).id,
    x,
    y,
    width,
    height,
  }));
  if (!item.regions) return { labelId: null, regions };
  // Corrected boxes are checked here, before anything is added (a box outside the image: 400 REGION_OUT_OF_BOUNDS).
  return {
    labelId: null,
    regions: validateRegions(
      { id: view.projectId, type: 'detection', labelIds: project.labels.map((label) => label.id) },
      regions,
    ),
  };
}
