import { useQuery } from '@tanstack/react-query';
import { api, type Project, type Schemas, unwrap } from '../api/client';

export type MetricsAtThresholds =
  | Schemas['ClassificationMetricsWithApDto']
  | Schemas['MultilabelMetricsAtThresholdDto']
  | Schemas['DetectionMetricsAtThresholdDto'];

export interface MetricThresholds {
  /** Predictions (boxes) below this probability count as none. */
  threshold: number;
  /** Detection: the IoU from which a found box matches a labeled one. */
  overlapThreshold?: number;
}

/**
 * Custom Vision's Performance page defaults: a 50% probability threshold and, for boxes, a 30% overlap threshold.
 * The API's own defaults are training's (argmax for classification, IoU 0.5), so the console always sends these.
 */
export const DEFAULT_THRESHOLDS = {
  classification: { threshold: 0.5 },
  multilabel: { threshold: 0.5 },
  detection: { threshold: 0.5, overlapThreshold: 0.3 },
} satisfies Record<Project['type'], MetricThresholds>;

/** The overlap at which training scores each epoch's validation boxes: the API's per-epoch valAccuracy of a detector. */
export const EPOCH_OVERLAP_THRESHOLD = 0.5;

/** A 0–1 threshold as the console names it: "50%". */
export const thresholdPercent = (value: number) => `${Math.round(value * 100)}%`;

/** Mean average precision at an overlap threshold, named as mAP@50 is at IoU 0.5: "mAP@30". */
export const mapName = (overlapThreshold: number) => `mAP@${Math.round(overlapThreshold * 100)}`;

/**
 * An iteration's validation metrics at these thresholds. The iteration list and the iteration page share the cache
 * entry of the default thresholds, so both show the same figures.
 */
export function useIterationMetrics(
  projectId: string,
  iterationId: string,
  thresholds: MetricThresholds,
  enabled: boolean,
) {
  return useQuery({
    queryKey: ['metrics', projectId, iterationId, thresholds.threshold, thresholds.overlapThreshold],
    enabled,
    // The figures of the previous slider position stay shown until the new ones arrive, instead of a blank.
    placeholderData: (previous) => previous,
    queryFn: async (): Promise<MetricsAtThresholds> =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/iterations/{iterationId}/metrics', {
          params: { path: { projectId, iterationId }, query: thresholds },
        }),
      ),
  });
}
