import type { SeededRandom } from '../random/seeded-random.js';
import type { TrainingExample } from './training-types.js';

export interface DatasetSplit {
  train: number[];
  validation: number[];
}

/**
 * Keeps fixed splits and holds out `validationSplit` of the rest, per label for classification (so each label is
 * represented in both parts when it has at least two examples). Indexes are into `examples`.
 */
export function splitExamples(
  examples: readonly TrainingExample[],
  validationSplit: number,
  random: SeededRandom,
): DatasetSplit {
  const train: number[] = [];
  const validation: number[] = [];
  const unassigned = new Map<number | undefined, number[]>();
  examples.forEach((example, index) => {
    if (example.split === 'train') train.push(index);
    else if (example.split === 'validation') validation.push(index);
    else {
      const group = unassigned.get(example.label) ?? [];
      group.push(index);
      unassigned.set(example.label, group);
    }
  });
  const groups = [...unassigned.entries()].sort(([a], [b]) => (a ?? -1) - (b ?? -1));
  for (const [, indexes] of groups) {
    const shuffled = random.shuffled(indexes);
    const held = indexes.length > 1 ? Math.min(indexes.length - 1, Math.round(indexes.length * validationSplit)) : 0;
    validation.push(...shuffled.slice(0, held));
    train.push(...shuffled.slice(held));
  }
  return { train: train.sort((a, b) => a - b), validation: validation.sort((a, b) => a - b) };
}
