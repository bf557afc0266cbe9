import type { SeededRandom } from '../random/seeded-random.js';
import type { TrainingExample } from './training-types.js';

export interface DatasetSplit {
  train: number[];
  validation: number[];
}

/**
 * Keeps fixed splits and holds out `validationSplit` of the rest, per label (so each label is represented in both
 * parts when it has at least two examples). Classification groups examples by their label. Detection does so when
 * `detectionByLabel` is set, grouping an image by its rarest box label (the label in the fewest unassigned images),
 * so a label of few photos still gets its share; multilabel likewise by its rarest label when `multilabelByLabel`
 * is set (an image without labels goes to a group of its own), and then each label of at least two unassigned images
 * that still has no validation image gets one of them, if that leaves each of its labels a training image (see
 * `coverEveryLabel`). Without them, detection and multilabel images are drawn at random as one group, as iterations
 * recorded before per-label splitting were. Indexes are into `examples`.
 */
export function splitExamples(
  examples: readonly TrainingExample[],
  validationSplit: number,
  random: SeededRandom,
  {
    detectionByLabel = false,
    multilabelByLabel = false,
  }: { detectionByLabel?: boolean; multilabelByLabel?: boolean } = {},
): DatasetSplit {
  const train: number[] = [];
  const validation: number[] = [];
  const unassigned: number[] = [];
  examples.forEach((example, index) => {
    if (example.split === 'train') train.push(index);
    else if (example.split === 'validation') validation.push(index);
    else unassigned.push(index);
  });
  const groupOf = detectionByLabel
    ? rarestLabels(examples, unassigned, (example) => (example.boxes ?? []).map((box) => box.label))
    : multilabelByLabel
      ? rarestLabels(examples, unassigned, (example) => example.labels ?? [])
      : (index: number) => examples[index].label;
  const groups = new Map<number | undefined, number[]>();
  for (const index of unassigned) {
    const key = groupOf(index);
    const group = groups.get(key);
    if (group) group.push(index);
    else groups.set(key, [index]);
  }
  const ordered = [...groups.entries()].sort(([a], [b]) => (a ?? -1) - (b ?? -1));
  for (const [, indexes] of ordered) {
    const shuffled = random.shuffled(indexes);
    const held = indexes.length > 1 ? Math.min(indexes.length - 1, Math.round(indexes.length * validationSplit)) : 0;
    validation.push(...shuffled.slice(0, held));
    train.push(...shuffled.slice(held));
  }
  if (multilabelByLabel && validationSplit > 0) coverEveryLabel(examples, unassigned, train, validation, random);
  return { train: train.sort((a, b) => a - b), validation: validation.sort((a, b) => a - b) };
}

/**
 * The label each image is split with: of its labels (`labelsOf`: its box labels, or its multilabel labels), the one
 * in the fewest of `indexes`' images (the lower label index on a tie); undefined for an image without any.
 */
function rarestLabels(
  examples: readonly TrainingExample[],
  indexes: readonly number[],
  labelsOf: (example: TrainingExample) => readonly number[],
): (index: number) => number | undefined {
  const distinctLabelsOf = (index: number) => [...new Set(labelsOf(examples[index]))];
  const imagesPerLabel = new Map<number, number>();
  for (const index of indexes)
    for (const label of distinctLabelsOf(index)) imagesPerLabel.set(label, (imagesPerLabel.get(label) ?? 0) + 1);
  return (index) => {
    const byRarity = distinctLabelsOf(index).sort((a, b) => imagesPerLabel.get(a)! - imagesPerLabel.get(b)! || a - b);
    return byRarity[0];
  };
}

/**
 * Moves, for each multilabel label without a validation image (the rarest first, then by index), one of its unassigned
 * training images to validation: the first in a seeded shuffle whose labels all keep another training image. A label
 * of one image, or whose every image is needed for training, stays without. Draws from `random` only for such a
 * label, so a split that already covers every label is the one drawn before this pass existed.
 */
function coverEveryLabel(
  examples: readonly TrainingExample[],
  unassigned: readonly number[],
  train: number[],
  validation: number[],
  random: SeededRandom,
): void {
  const labelsOf = (index: number) => [...new Set(examples[index].labels ?? [])];
  const count = (indexes: readonly number[]) => {
    const perLabel = new Map<number, number>();
    for (const index of indexes)
      for (const label of labelsOf(index)) perLabel.set(label, (perLabel.get(label) ?? 0) + 1);
    return perLabel;
  };
  const unassignedPerLabel = count(unassigned);
  const trainPerLabel = count(train);
  const validated = count(validation);
  const isUnassigned = new Set(unassigned);
  const uncovered = [...unassignedPerLabel.entries()]
    .filter(([label, images]) => images >= 2 && !validated.has(label))
    .sort(([a, aImages], [b, bImages]) => aImages - bImages || a - b)
    .map(([label]) => label);
  for (const label of uncovered) {
    if (validated.has(label)) continue;
    const candidates = train.filter((index) => isUnassigned.has(index) && labelsOf(index).includes(label));
    const moved = random
      .shuffled(candidates)
      .find((index) => labelsOf(index).every((other) => (trainPerLabel.get(other) ?? 0) >= 2));
    if (moved === undefined) continue;
    train.splice(train.indexOf(moved), 1);
    validation.push(moved);
    for (const other of labelsOf(moved)) {
      trainPerLabel.set(other, trainPerLabel.get(other)! - 1);
      validated.set(other, (validated.get(other) ?? 0) + 1);
    }
  }
}
