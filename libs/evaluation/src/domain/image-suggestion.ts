import type { Prediction } from '@diyml/ml';
import type { ImageSuggestion } from './label-suggestions.events.js';

/** Classification keeps this many most probable labels per image (multilabel keeps every label); detection this many boxes. */
export const MAX_SUGGESTED_LABELS = 5;
export const MAX_SUGGESTED_BOXES = 20;
/** Detection boxes below this probability are not suggested at all. */
export const MIN_SUGGESTED_BOX_PROBABILITY = 0.1;

/**
 * What one image's predictions suggest, with the model's labels mapped to project label ids. Uncertainty is the
 * entropy of the label distribution (classification), or the mean binary entropy of the labels' independent
 * probabilities (multilabel) or of the boxes (detection).
 */
export function imageSuggestionOf(
  imageId: string,
  task: 'classification' | 'multilabel' | 'detection',
  labelIds: readonly string[],
  predictions: readonly Prediction[],
): ImageSuggestion {
  const sorted = [...predictions].sort((a, b) => b.probability - a.probability);
  if (task === 'classification') {
    return {
      imageId,
      predictions: sorted
        .slice(0, MAX_SUGGESTED_LABELS)
        .map((p) => ({ labelId: labelIds[p.labelIndex], probability: p.probability, box: null })),
      uncertainty: entropy(sorted.map((p) => p.probability)),
    };
  }
  if (task === 'multilabel') {
    return {
      imageId,
      predictions: sorted.map((p) => ({ labelId: labelIds[p.labelIndex], probability: p.probability, box: null })),
      uncertainty: meanBinaryEntropy(sorted.map((p) => p.probability)),
    };
  }
  const boxes = sorted
    .filter((p) => p.box && p.probability >= MIN_SUGGESTED_BOX_PROBABILITY)
    .slice(0, MAX_SUGGESTED_BOXES);
  return {
    imageId,
    predictions: boxes.map((p) => ({
      labelId: labelIds[p.labelIndex],
      probability: p.probability,
      box: { x: p.box!.x, y: p.box!.y, width: p.box!.width, height: p.box!.height },
    })),
    uncertainty: meanBinaryEntropy(boxes.map((p) => p.probability)),
  };
}

/** Mean over independent yes/no probabilities of their entropy: high when many are near 0.5. */
function meanBinaryEntropy(probabilities: readonly number[]): number {
  const binary = probabilities.map((p) => entropy([p, 1 - p]));
  return binary.length ? binary.reduce((sum, value) => sum + value, 0) / binary.length : 0;
}

function entropy(probabilities: readonly number[]): number {
  return probabilities.reduce((sum, p) => (p > 0 ? sum - p * Math.log(p) : sum), 0);
}
