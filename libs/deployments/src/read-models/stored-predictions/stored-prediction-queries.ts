import { Injectable } from '@nestjs/common';
import { DomainError, type Page } from '@diyml/core';
import { decodeCursor, encodeCursor, ReadStore } from '@diyml/read-store';
import { DeploymentErrors } from '../../domain/deployment-errors.js';
import { STORED_PREDICTIONS, type StoredPredictionView } from './stored-prediction.view.js';

export interface StoredPredictionFilter {
  deploymentId?: string;
  /**
   * Only predictions naming this label (with its probability in the range, when one is given), named as the stored
   * prediction's iteration named it (the owner may have renamed it since); undefined when that iteration had no such
   * label.
   */
  label?: (iterationId: string) => string | undefined;
  /** Probability range of `label`, or of the most probable prediction without a label. */
  minProbability?: number;
  maxProbability?: number;
  /** Stored at or after / before. ISO 8601. */
  from?: string;
  to?: string;
  iterationId?: string;
  /**
   * Every one of these labels predicted with a probability in its range (Custom Vision's tag filters). `label` names
   * the label as the stored prediction's iteration named it (the owner may have renamed it since); undefined when
   * that iteration had no such label.
   */
  labelRanges?: {
    label: (iterationId: string) => string | undefined;
    minProbability?: number;
    maxProbability?: number;
  }[];
  /** Default newest first. */
  order?: 'newest' | 'oldest';
}

/** The probability the filter judges: the named label's highest, or the top prediction's. */
export function probabilityFor(
  view: Pick<StoredPredictionView, 'predictions'>,
  label: string | undefined,
): number | null {
  const candidates = label ? view.predictions.filter((prediction) => prediction.label === label) : view.predictions;
  return candidates.length ? Math.max(...candidates.map((prediction) => prediction.probability)) : null;
}

@Injectable()
export class StoredPredictionQueries {
  constructor(private readonly readStore: ReadStore) {}

  private get predictions() {
    return this.readStore.collection<StoredPredictionView>(STORED_PREDICTIONS);
  }

  /** A stored prediction of the project; PREDICTION_NOT_FOUND (404) when unknown, deleted or another project's. */
  async get(projectId: string, predictionId: string): Promise<StoredPredictionView> {
    const view = await this.predictions.get(predictionId);
    if (!view || view.projectId !== projectId) {
      throw DomainError.notFound(
        DeploymentErrors.PREDICTION_NOT_FOUND,
        `Stored prediction ${predictionId} does not exist in this project.`,
      );
    }
    return view;
  }

  /**
   * Newest first. The equality filters go to the read store; probability and time ranges are applied here,
   * over at most what the deployments' retention limits keep.
   */
  async list(
    projectId: string,
    filter: StoredPredictionFilter,
    page: { limit: number; cursor?: string },
  ): Promise<Page<StoredPredictionView>> {
    const candidates = await this.predictions.findAll({
      projectId,
      ...(filter.deploymentId ? { deploymentId: filter.deploymentId } : {}),
      ...(filter.iterationId ? { iterationId: filter.iterationId } : {}),
    });
    const inRange = (probability: number | null, min = 0, max = 1) =>
      probability !== null && probability >= min && probability <= max;
    const order = filter.order === 'oldest' ? (a: StoredPredictionView, b: Cursor) => -newestFirst(a, b) : newestFirst;
    const matching = candidates
      .filter((view) => {
        if (filter.from && view.storedAt < filter.from) return false;
        if (filter.to && view.storedAt >= filter.to) return false;
        const ranges = filter.labelRanges ?? [];
        if (
          !ranges.every((range) => {
            const label = range.label(view.iterationId);
            return (
              label !== undefined && inRange(probabilityFor(view, label), range.minProbability, range.maxProbability)
            );
          })
        )
          return false;
        const label = filter.label?.(view.iterationId);
        if (filter.label && label === undefined) return false;
        const probability = probabilityFor(view, label);
        if (filter.minProbability === undefined && filter.maxProbability === undefined)
          return !filter.label || probability !== null;
        return inRange(probability, filter.minProbability, filter.maxProbability);
      })
      .sort(order);
    let start = 0;
    if (page.cursor) {
      const [storedAt, id] = decodeCursor(page.cursor);
      start = matching.findIndex((view) => order(view, { storedAt: String(storedAt), id }) > 0);
      if (start < 0) start = matching.length;
    }
    const items = matching.slice(start, start + page.limit);
    const last = items[items.length - 1];
    const more = start + page.limit < matching.length;
    return { items, nextCursor: more && last ? encodeCursor(last.storedAt, last.id) : null };
  }

  /** The deployment's stored predictions, oldest first (for the retention sweep). */
  async ofDeployment(deploymentId: string): Promise<StoredPredictionView[]> {
    const views = await this.predictions.findAll({ deploymentId });
    return views.sort((a, b) => -newestFirst(a, b));
  }
}

type Cursor = Pick<StoredPredictionView, 'storedAt' | 'id'>;

function newestFirst(a: Cursor, b: Cursor): number {
  if (a.storedAt !== b.storedAt) return a.storedAt < b.storedAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
