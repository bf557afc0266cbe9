import { useQuery } from '@tanstack/react-query';
import { api, type Project, unwrap } from '../api/client';
import { ErrorMessage } from './error-message';
import { useLabelColour } from './label-colours';
import { LineChart, type Series } from './line-chart';
import type { ImagePerformance } from './validation-images';

const RECALL_GRID = Array.from({ length: 21 }, (_, index) => index / 20);
/** IoU a found box needs with a labeled one of its label to count as finding it, without an overlap threshold. */
const MATCH_IOU = 0.5;

interface Ranked {
  score: number;
  hit: boolean;
}

/**
 * Precision/recall curves per label, drawn from the iteration's per-image validation results: images (or, for
 * detection, boxes) ranked by probability, precision interpolated at each recall (the best precision at that
 * recall or beyond), as average precision is computed.
 */
export function PrecisionRecallCurves({
  project,
  iterationId,
  overlapThreshold = MATCH_IOU,
}: {
  project: Project;
  iterationId: string;
  /** Detection: the IoU from which a found box matches, as the metrics' overlap threshold. */
  overlapThreshold?: number;
}) {
  const colourOf = useLabelColour();
  const all = useQuery({
    queryKey: ['image-performances-all', project.id, iterationId],
    queryFn: async () => {
      const items: ImagePerformance[] = [];
      let cursor: string | undefined;
      do {
        const page = unwrap(
          await api.GET('/v1/projects/{projectId}/iterations/{iterationId}/image-performances', {
            params: { path: { projectId: project.id, iterationId }, query: { threshold: 0, limit: 1000, cursor } },
          }),
        );
        items.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return items;
    },
  });
  if (all.error) return <ErrorMessage error={all.error} />;
  if (!all.data) return <p aria-busy="true">Loading precision/recall…</p>;
  // The iteration's labels (as named when it was queued), as its results name them.
  const labels = new Map(
    all.data.flatMap((item) => [...item.expected, ...item.predictions]).map((entry) => [entry.labelId, entry.label]),
  );
  const series: Series[] = [...labels]
    .sort(([, a], [, b]) => a.localeCompare(b))
    .flatMap(([labelId, name]) => {
      const { ranked, positives } =
        project.type === 'detection' ? rankBoxes(all.data, labelId, overlapThreshold) : rankImages(all.data, labelId);
      if (positives === 0) return [];
      return [{ label: name, values: interpolatedPrecision(ranked, positives), colour: colourOf(labelId) }];
    });
  if (series.length === 0)
    return <p className="hint">No validation image carries a label, so there is no curve to draw.</p>;
  return (
    <div className="charts">
      <LineChart
        title="Precision / recall per label"
        x={RECALL_GRID}
        xLabel="recall"
        yRange={[0, 1]}
        yLabel="precision"
        percent
        xPercent
        series={series}
      />
    </div>
  );
}

function rankImages(items: ImagePerformance[], labelId: string): { ranked: Ranked[]; positives: number } {
  const ranked = items.map((item) => ({
    score: item.predictions.find((prediction) => prediction.labelId === labelId)?.probability ?? 0,
    hit: item.expected.some((expected) => expected.labelId === labelId),
  }));
  return { ranked, positives: ranked.filter((entry) => entry.hit).length };
}

function rankBoxes(
  items: ImagePerformance[],
  labelId: string,
  overlapThreshold: number,
): { ranked: Ranked[]; positives: number } {
  const ranked: Ranked[] = [];
  let positives = 0;
  for (const item of items) {
    const truths = item.expected
      .filter((expected) => expected.labelId === labelId && expected.box)
      .map((expected) => expected.box!);
    positives += truths.length;
    const matched = new Set<number>();
    const found = item.predictions
      .filter((prediction) => prediction.labelId === labelId && prediction.box)
      .sort((a, b) => b.probability - a.probability);
    for (const prediction of found) {
      let best = -1;
      let bestOverlap = overlapThreshold;
      truths.forEach((truth, index) => {
        const overlap = iou(truth, prediction.box!);
        if (!matched.has(index) && overlap >= bestOverlap) [best, bestOverlap] = [index, overlap];
      });
      if (best >= 0) matched.add(best);
      ranked.push({ score: prediction.probability, hit: best >= 0 });
    }
  }
  return { ranked, positives };
}

function interpolatedPrecision(ranked: Ranked[], positives: number): (number | null)[] {
  const sorted = [...ranked].sort((a, b) => b.score - a.score);
  const points: { recall: number; precision: number }[] = [];
  let hits = 0;
  sorted.forEach((entry, index) => {
    if (entry.hit) hits += 1;
    points.push({ recall: hits / positives, precision: hits / (index + 1) });
  });
  return RECALL_GRID.map((recall) => {
    const reachable = points.filter((point) => point.recall >= recall - 1e-9);
    return reachable.length ? Math.max(...reachable.map((point) => point.precision)) : 0;
  });
}

function iou(a: Box, b: Box): number {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (width <= 0 || height <= 0) return 0;
  const overlap = width * height;
  return overlap / (a.width * a.height + b.width * b.height - overlap);
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
