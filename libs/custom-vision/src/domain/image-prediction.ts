import type { CvPrediction } from './shapes.js';

export interface NamedPrediction {
  label: string;
  probability: number;
  box?: { x: number; y: number; width: number; height: number };
}

/**
 * Our predictions (named by label) as Custom Vision's, with tag ids from the iteration's labels; the project's negative
 * label (a class of Multiclass models) is the Negative tag.
 */
export function toCvPredictions(
  predictions: readonly NamedPrediction[],
  labels: readonly { id: string; name: string }[],
  negativeLabelId: string | null,
): CvPrediction[] {
  const ids = new Map<string, string>();
  for (const label of labels) if (!ids.has(label.name)) ids.set(label.name, label.id);
  return predictions.map(({ label, probability, box }) => {
    const tagId = ids.get(label) ?? '';
    const tagType = tagId !== '' && tagId === negativeLabelId ? 'Negative' : 'Regular';
    const prediction: CvPrediction = { probability, tagId, tagName: label, tagType };
    if (box) prediction.boundingBox = { left: box.x, top: box.y, width: box.width, height: box.height };
    return prediction;
  });
}

/** The id of the project's negative label (Custom Vision's Negative tag), null when it has none. */
export function negativeLabelIdOf(project: { labels: readonly { id: string; negative?: boolean }[] }): string | null {
  return project.labels.find((label) => label.negative)?.id ?? null;
}
