import type { CvPrediction } from './shapes.js';

export interface NamedPrediction {
  label: string;
  probability: number;
  box?: { x: number; y: number; width: number; height: number };
}

/** Our predictions (named by label) as Custom Vision's, with tag ids from the iteration's labels. */
export function toCvPredictions(
  predictions: readonly NamedPrediction[],
  labels: readonly { id: string; name: string }[],
): CvPrediction[] {
  const ids = new Map<string, string>();
  for (const label of labels) if (!ids.has(label.name)) ids.set(label.name, label.id);
  return predictions.map(({ label, probability, box }) => {
    const prediction: CvPrediction = { probability, tagId: ids.get(label) ?? '', tagName: label, tagType: 'Regular' };
    if (box) prediction.boundingBox = { left: box.x, top: box.y, width: box.width, height: box.height };
    return prediction;
  });
}
