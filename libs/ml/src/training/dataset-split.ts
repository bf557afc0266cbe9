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
 * so a label of few photos still gets its share; without it, detection images are drawn at random as one group, as
 * iterations recorded before per-label splitting were. Indexes are into `examples`.
 */
export function splitExamples(
  examples: readonly TrainingExample[],
  validationSplit: number,
  random: SeededRandom,
  { detectionByLabel = false }: { detectionByLabel?: boolean } = {},
): DatasetSplit {
  const train: number[] = [];
  const validation: number[] = [];
  const unassigned: number[] = [];
  examples.forEach((example, index) => {
    if (example.split === 'train') train.push(index);
    else if (example.split === 'validation') validation.push(index);
    else unassigned.push(index);
  });
  const groupOf = detectionByLabel ? rarestBoxLabels(examples, unassigned) : (index: number) => examples[index].label;
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
  return { train: train.sort((a, b) => a - b), validation: validation.sort((a, b) => a - b) };
}

/**
 * The label each detection image is split with: of its box labels, the one in the fewest of `indexes`' images (the
 * lower label index on a tie); undefined for an image without boxes.
 */
function rarestBoxLabels(
  examples: readonly TrainingExample[],
  indexes: readonly number[],
): (index: number) => number | undefined {
  const labelsOf = (index: number) => [...new Set((examples[index].boxes ?? []).map((box) => box.label))];
  const imagesPerLabel = new Map<number, number>();
  for (const index of indexes)
    for (const label of labelsOf(index)) imagesPerLabel.set(label, (imagesPerLabel.get(label) ?? 0) + 1);
  return (index) => {
    const byRarity = labelsOf(index).sort((a, b) => imagesPerLabel.get(a)! - imagesPerLabel.get(b)! || a - b);
    return byRarity[0];
  };
}
