import { type Box, iou, type LabeledBox, type ScoredBox } from '../boxes/box.js';
import { harmonicMean, mean } from './classification-metrics.js';

/** The ground truth and the detections of one image. */
export interface DetectionSample {
  groundTruth: readonly LabeledBox[];
  detections: readonly ScoredBox[];
}

export interface DetectionLabelMetrics {
  label: string;
  /** Average precision at the chosen overlap threshold. */
  ap: number;
  /** Precision, recall and F1 of the detections scoring at least the score threshold. */
  precision: number;
  recall: number;
  f1: number;
  /** Ground-truth boxes carrying this label. */
  support: number;
}

export interface DetectionMetrics {
  /** Macro averages over the labels with ground truth, at the score and overlap thresholds. */
  precision: number;
  recall: number;
  f1: number;
  perLabel: DetectionLabelMetrics[];
  /** Mean AP at the chosen overlap threshold. */
  mapAtOverlapThreshold: number;
  /** Mean AP at IoU 0.5. */
  map50: number;
  /** Mean AP averaged over IoU 0.50, 0.55, …, 0.95 (COCO). */
  map: number;
}

export interface DetectionMetricsOptions {
  /** Minimum IoU for a detection to match a ground-truth box. Default 0.5. */
  overlapThreshold?: number;
  /** Detections below this score count as absent for precision/recall/F1 (AP uses them all). Default 0.5. */
  scoreThreshold?: number;
}

interface RankedMatch {
  score: number;
  matched: boolean;
}

/**
 * Matches the detections of one label to its ground truth, best score first; each detection takes the
 * unmatched ground-truth box of the same image it overlaps most, if that overlap reaches the threshold (COCO).
 */
function matchDetections(
  samples: readonly DetectionSample[],
  label: number,
  overlapThreshold: number,
): { ranked: RankedMatch[]; groundTruthCount: number } {
  const candidates: { score: number; box: ScoredBox; image: number }[] = [];
  let groundTruthCount = 0;
  samples.forEach((sample, image) => {
    groundTruthCount += sample.groundTruth.filter((box) => box.label === label).length;
    for (const box of sample.detections) if (box.label === label) candidates.push({ score: box.score, box, image });
  });
  candidates.sort((a, b) => b.score - a.score);
  const taken = samples.map((sample) => sample.groundTruth.map(() => false));
  const ranked = candidates.map(({ score, box, image }) => {
    const best = bestUnmatchedTruth(samples[image].groundTruth, taken[image], box, overlapThreshold);
    if (best >= 0) taken[image][best] = true;
    return { score, matched: best >= 0 };
  });
  return { ranked, groundTruthCount };
}

/**
 * The index of the ground-truth box of `box`'s label, not yet `taken`, that `box` overlaps most if that overlap
 * reaches the threshold; -1 if none (the COCO matching step, used per image by the callers in score order).
 */
export function bestUnmatchedTruth<L>(
  groundTruth: readonly (Box & { label: L })[],
  taken: readonly boolean[],
  box: Box & { label: L },
  overlapThreshold: number,
): number {
  let best = -1;
  let bestOverlap = overlapThreshold;
  groundTruth.forEach((truth, index) => {
    if (truth.label !== box.label || taken[index]) return;
    const overlap = iou(truth, box);
    if (overlap >= bestOverlap) {
      best = index;
      bestOverlap = overlap;
    }
  });
  return best;
}

/** All-point interpolated average precision (area under the precision envelope, VOC 2010+). */
export function averagePrecision(ranked: readonly { matched: boolean }[], groundTruthCount: number): number {
  if (groundTruthCount === 0) return 0;
  const recalls: number[] = [0];
  const precisions: number[] = [0];
  let truePositives = 0;
  ranked.forEach((match, index) => {
    if (match.matched) truePositives++;
    recalls.push(truePositives / groundTruthCount);
    precisions.push(truePositives / (index + 1));
  });
  recalls.push(1);
  precisions.push(0);
  for (let i = precisions.length - 2; i >= 0; i--) precisions[i] = Math.max(precisions[i], precisions[i + 1]);
  let area = 0;
  for (let i = 1; i < recalls.length; i++) area += (recalls[i] - recalls[i - 1]) * precisions[i];
  return area;
}

export function averagePrecisionForLabel(
  samples: readonly DetectionSample[],
  label: number,
  overlapThreshold = 0.5,
): number {
  const { ranked, groundTruthCount } = matchDetections(samples, label, overlapThreshold);
  return averagePrecision(ranked, groundTruthCount);
}

const COCO_OVERLAP_THRESHOLDS = Array.from({ length: 10 }, (_, i) => (50 + 5 * i) / 100);

export function detectionMetrics(
  samples: readonly DetectionSample[],
  labels: readonly string[],
  options: DetectionMetricsOptions = {},
): DetectionMetrics {
  const overlapThreshold = options.overlapThreshold ?? 0.5;
  const scoreThreshold = options.scoreThreshold ?? 0.5;
  const perLabel = labels.map((label, index): DetectionLabelMetrics => {
    const { ranked, groundTruthCount } = matchDetections(samples, index, overlapThreshold);
    const confident = ranked.filter((match) => match.score >= scoreThreshold);
    const truePositives = confident.filter((match) => match.matched).length;
    const precision = confident.length > 0 ? truePositives / confident.length : 0;
    const recall = groundTruthCount > 0 ? truePositives / groundTruthCount : 0;
    return {
      label,
      ap: averagePrecision(ranked, groundTruthCount),
      precision,
      recall,
      f1: harmonicMean(precision, recall),
      support: groundTruthCount,
    };
  });
  const withTruth = labels.map((_, index) => index).filter((index) => perLabel[index].support > 0);
  const meanAp = (threshold: number) =>
    mean(withTruth.map((index) => averagePrecisionForLabel(samples, index, threshold)));
  return {
    precision: mean(withTruth.map((index) => perLabel[index].precision)),
    recall: mean(withTruth.map((index) => perLabel[index].recall)),
    f1: mean(withTruth.map((index) => perLabel[index].f1)),
    perLabel,
    mapAtOverlapThreshold: mean(withTruth.map((index) => perLabel[index].ap)),
    map50: meanAp(0.5),
    map: mean(COCO_OVERLAP_THRESHOLDS.map(meanAp)),
  };
}
