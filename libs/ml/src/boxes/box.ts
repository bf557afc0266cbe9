/** An axis-aligned box; coordinates are fractions (0..1) of the image, origin top-left. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LabeledBox extends Box {
  /** Index into the model's label list. */
  label: number;
}

export interface ScoredBox extends LabeledBox {
  score: number;
}

/** Intersection over union; 0 when the boxes do not overlap or both are empty. */
export function iou(a: Box, b: Box): number {
  const overlapWidth = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const overlapHeight = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (overlapWidth <= 0 || overlapHeight <= 0) return 0;
  const intersection = overlapWidth * overlapHeight;
  const union = a.width * a.height + b.width * b.height - intersection;
  return union > 0 ? intersection / union : 0;
}

/**
 * Greedy per-label non-maximum suppression: keeps the highest-scoring box and drops boxes of the same label that
 * overlap a kept one by more than `overlapThreshold`. Returns the kept boxes, best first.
 */
export function nonMaxSuppression<T extends ScoredBox>(
  boxes: readonly T[],
  overlapThreshold: number,
  maxBoxes = Infinity,
): T[] {
  const kept: T[] = [];
  for (const candidate of [...boxes].sort((a, b) => b.score - a.score)) {
    if (kept.length >= maxBoxes) break;
    const suppressed = kept.some((box) => box.label === candidate.label && iou(box, candidate) > overlapThreshold);
    if (!suppressed) kept.push(candidate);
  }
  return kept;
}

/**
 * NMS with box voting (Gidaris & Komodakis, 2015): like `nonMaxSuppression`, but each kept box takes the
 * score-weighted mean of its own coordinates and those of the boxes of its label that overlap it by more than
 * `overlapThreshold`. Neighbouring cells of a dense detector each see the object a little differently; their
 * average is a steadier box than the single best one. Scores stay those of the kept boxes.
 */
export function votedNonMaxSuppression<T extends ScoredBox>(
  boxes: readonly T[],
  overlapThreshold: number,
  maxBoxes = Infinity,
): T[] {
  return nonMaxSuppression(boxes, overlapThreshold, maxBoxes).map((kept) => {
    const voters = boxes.filter(
      (box) => box.label === kept.label && (box === kept || iou(box, kept) > overlapThreshold),
    );
    const weight = voters.reduce((sum, box) => sum + box.score, 0);
    const mean = (edge: (box: Box) => number) => voters.reduce((sum, box) => sum + box.score * edge(box), 0) / weight;
    const [left, top, right, bottom] = [
      mean((box) => box.x),
      mean((box) => box.y),
      mean((box) => box.x + box.width),
      mean((box) => box.y + box.height),
    ];
    return { ...kept, x: left, y: top, width: right - left, height: bottom - top };
  });
}
