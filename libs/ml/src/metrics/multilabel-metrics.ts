import { harmonicMean, mean } from './classification-metrics.js';
import { averagePrecision } from './detection-metrics.js';

/**
 * The probability from which a multilabel model's label counts as given, unless a request says otherwise: Custom
 * Vision's default, for metrics, predictions added to the dataset and accepted suggestions alike.
 */
export const MULTILABEL_THRESHOLD = 0.5;

/** One label's scores: a label counts as predicted for an image when its probability reaches the threshold. */
export interface MultilabelLabelMetrics {
  label: string;
  /** Average precision of the label over every probability (independent of the threshold). */
  ap: number;
  precision: number;
  recall: number;
  f1: number;
  /** How many examples truly carry this label. */
  support: number;
}

/**
 * As Custom Vision reports a multilabel iteration: precision and recall over every (image, label) decision at the
 * threshold (micro averages), and mAP, the mean of the per-label APs over the labels that some image carries.
 */
export interface MultilabelMetrics {
  precision: number;
  recall: number;
  f1: number;
  map: number;
  /** Share of examples whose predicted label set at the threshold is exactly their label set. */
  exactMatch: number;
  perLabel: MultilabelLabelMetrics[];
}

/**
 * `expected[i]` lists the label indexes of example i; `probabilities[i][label]` is the model's independent
 * probability of that label.
 */
export function multilabelMetrics(
  expected: readonly (readonly number[])[],
  probabilities: readonly (readonly number[])[],
  labels: readonly string[],
  threshold: number,
): MultilabelMetrics {
  if (expected.length !== probabilities.length)
    throw new RangeError(`expected ${expected.length} label sets but got ${probabilities.length} predictions`);
  const carries = expected.map((set) => new Set(set));
  let truePositives = 0;
  let predictedCount = 0;
  let expectedCount = 0;
  const perLabel = labels.map((label, index): MultilabelLabelMetrics => {
    const ranked = probabilities
      .map((row, example) => ({ probability: row[index] ?? 0, matched: carries[example].has(index) }))
      .sort((a, b) => b.probability - a.probability);
    const support = ranked.filter((entry) => entry.matched).length;
    const predicted = ranked.filter((entry) => entry.probability >= threshold);
    const hits = predicted.filter((entry) => entry.matched).length;
    truePositives += hits;
    predictedCount += predicted.length;
    expectedCount += support;
    const precision = predicted.length > 0 ? hits / predicted.length : 0;
    const recall = support > 0 ? hits / support : 0;
    return {
      label,
      ap: averagePrecision(ranked, support),
      precision,
      recall,
      f1: harmonicMean(precision, recall),
      support,
    };
  });
  const precision = predictedCount > 0 ? truePositives / predictedCount : 0;
  const recall = expectedCount > 0 ? truePositives / expectedCount : 0;
  const exact = probabilities.filter((row, example) =>
    labels.every((_, index) => row[index] >= threshold === carries[example].has(index)),
  ).length;
  return {
    precision,
    recall,
    f1: harmonicMean(precision, recall),
    map: mean(perLabel.filter((metrics) => metrics.support > 0).map((metrics) => metrics.ap)),
    exactMatch: probabilities.length > 0 ? exact / probabilities.length : 0,
    perLabel,
  };
}
