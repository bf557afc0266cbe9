/** Per-label scores; precision is 0 for a label never predicted, recall is 0 for a label never expected. */
export interface LabelMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** How many examples truly carry this label. */
  support: number;
}

export interface ConfusionMatrix {
  labels: string[];
  /** matrix[expected][predicted] counts. */
  matrix: number[][];
  /** Per expected label: examples whose best probability fell below the threshold. */
  noPrediction: number[];
}

export interface ClassificationMetrics {
  accuracy: number;
  /** Macro averages over the labels that were expected or predicted at least once. */
  precision: number;
  recall: number;
  f1: number;
  perLabel: LabelMetrics[];
  confusionMatrix: ConfusionMatrix;
}

/** A label index, or null when no label was predicted (for example below a probability threshold). */
export type PredictedLabel = number | null;

export function accuracy(expected: readonly number[], predicted: readonly PredictedLabel[]): number {
  assertSameLength(expected, predicted);
  if (expected.length === 0) return 0;
  let correct = 0;
  for (let i = 0; i < expected.length; i++) if (expected[i] === predicted[i]) correct++;
  return correct / expected.length;
}

/** The arg-max label of each probability row, or null when its probability is below `threshold`. */
export function predictAtThreshold(probabilities: readonly (readonly number[])[], threshold = 0): PredictedLabel[] {
  return probabilities.map((row) => {
    let best = -1;
    for (let i = 0; i < row.length; i++) if (best < 0 || row[i] > row[best]) best = i;
    return best >= 0 && row[best] >= threshold ? best : null;
  });
}

export function confusionMatrix(
  expected: readonly number[],
  predicted: readonly PredictedLabel[],
  labels: readonly string[],
): ConfusionMatrix {
  assertSameLength(expected, predicted);
  const matrix = labels.map(() => labels.map(() => 0));
  const noPrediction = labels.map(() => 0);
  for (let i = 0; i < expected.length; i++) {
    const guess = predicted[i];
    if (guess === null) noPrediction[expected[i]]++;
    else matrix[expected[i]][guess]++;
  }
  return { labels: [...labels], matrix, noPrediction };
}

export function classificationMetrics(
  expected: readonly number[],
  predicted: readonly PredictedLabel[],
  labels: readonly string[],
): ClassificationMetrics {
  const confusion = confusionMatrix(expected, predicted, labels);
  const predictedCounts = labels.map((_, index) => confusion.matrix.reduce((sum, row) => sum + row[index], 0));
  const perLabel = labels.map((label, index): LabelMetrics => {
    const truePositives = confusion.matrix[index][index];
    const support = confusion.matrix[index].reduce((sum, count) => sum + count, 0) + confusion.noPrediction[index];
    const precision = predictedCounts[index] > 0 ? truePositives / predictedCounts[index] : 0;
    const recall = support > 0 ? truePositives / support : 0;
    return { label, precision, recall, f1: harmonicMean(precision, recall), support };
  });
  const present = perLabel.filter((metrics, index) => metrics.support > 0 || predictedCounts[index] > 0);
  return {
    accuracy: accuracy(expected, predicted),
    precision: mean(present.map((m) => m.precision)),
    recall: mean(present.map((m) => m.recall)),
    f1: mean(present.map((m) => m.f1)),
    perLabel,
    confusionMatrix: confusion,
  };
}

/** Metrics when every prediction whose best probability is below `threshold` counts as no prediction. */
export function classificationMetricsAtThreshold(
  expected: readonly number[],
  probabilities: readonly (readonly number[])[],
  labels: readonly string[],
  threshold: number,
): ClassificationMetrics {
  return classificationMetrics(expected, predictAtThreshold(probabilities, threshold), labels);
}

/**
 * Average precision of one label of a classification, the label against the rest: the examples ranked by the
 * label's probability, the precision at each recall step weighted by that step. Examples of equal probability
 * form one step (as scikit-learn's average_precision_score), so their order does not matter. 0 for a label no
 * example truly has.
 */
export function classificationAveragePrecision(
  expected: readonly number[],
  probabilities: readonly (readonly number[])[],
  label: number,
): number {
  assertSameLength(expected, probabilities);
  const positives = expected.filter((truth) => truth === label).length;
  if (positives === 0) return 0;
  const ranked = expected
    .map((truth, index) => ({ positive: truth === label, score: probabilities[index][label] ?? 0 }))
    .sort((a, b) => b.score - a.score);
  let hits = 0;
  let previousRecall = 0;
  let area = 0;
  ranked.forEach((example, rank) => {
    if (example.positive) hits += 1;
    if (ranked[rank + 1]?.score === example.score) return;
    const recall = hits / positives;
    area += (recall - previousRecall) * (hits / (rank + 1));
    previousRecall = recall;
  });
  return area;
}

export function harmonicMean(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

export function mean(values: readonly number[]): number {
  return values.length > 0 ? values.reduce((sum, value) => sum + value, 0) / values.length : 0;
}

function assertSameLength(expected: readonly unknown[], predicted: readonly unknown[]): void {
  if (expected.length !== predicted.length) {
    throw new RangeError(`expected ${expected.length} labels but got ${predicted.length} predictions`);
  }
}
