import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../random/seeded-random.js';
import { splitExamples } from './dataset-split.js';
import type { TrainingExample } from './training-types.js';

const box = (label: number) => ({ label, x: 0.1, y: 0.1, width: 0.5, height: 0.5 });
const photo = (...labels: number[]): TrainingExample => ({ image: new Uint8Array(), boxes: labels.map(box) });
/** The quickstart's shape: 17 fork photos and 17 scissors photos, one object each. */
const forksAndScissors = [...Array.from({ length: 17 }, () => photo(0)), ...Array.from({ length: 17 }, () => photo(1))];
const heldPerLabel = (examples: TrainingExample[], validation: number[]) =>
  [0, 1].map((label) => validation.filter((index) => examples[index].boxes!.some((b) => b.label === label)).length);

describe('splitExamples for detection', () => {
  it('holds out about the validation fraction of each label, whatever the seed', () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const { train, validation } = splitExamples(forksAndScissors, 0.2, new SeededRandom(seed), {
        detectionByLabel: true,
      });
      expect(heldPerLabel(forksAndScissors, validation)).toEqual([3, 3]);
      expect([...train, ...validation].sort((a, b) => a - b)).toEqual(forksAndScissors.map((_, index) => index));
    }
  });

  it('is the same split for the same seed', () => {
    const split = () => splitExamples(forksAndScissors, 0.2, new SeededRandom(42), { detectionByLabel: true });
    expect(split()).toEqual(split());
  });

  it('counts an image of several labels by its rarest one, so a rare label still gets validation photos', () => {
    // 5 photos show a fork beside scissors, 20 only scissors: fork is the rarer label of the 5 mixed photos.
    const examples = [...Array.from({ length: 5 }, () => photo(1, 0)), ...Array.from({ length: 20 }, () => photo(1))];
    const { validation } = splitExamples(examples, 0.2, new SeededRandom(7), { detectionByLabel: true });
    expect(validation.filter((index) => index < 5)).toHaveLength(1);
    expect(validation.filter((index) => index >= 5)).toHaveLength(4);
  });

  it('keeps fixed splits and leaves photos without boxes to a group of their own', () => {
    const examples: TrainingExample[] = [
      { ...photo(0), split: 'validation' },
      { ...photo(1), split: 'train' },
      ...Array.from({ length: 10 }, () => photo()),
      ...Array.from({ length: 10 }, () => photo(0)),
    ];
    const { train, validation } = splitExamples(examples, 0.2, new SeededRandom(3), { detectionByLabel: true });
    expect(validation).toContain(0);
    expect(train).toContain(1);
    expect(validation.filter((index) => index >= 2 && index < 12)).toHaveLength(2);
    expect(validation.filter((index) => index >= 12)).toHaveLength(2);
  });

  it('draws detection images at random as one group without detectionByLabel, as iterations before it did', () => {
    const random = new SeededRandom(42);
    const expected = random.shuffled(forksAndScissors.map((_, index) => index)).slice(0, 7);
    const { validation } = splitExamples(forksAndScissors, 0.2, new SeededRandom(42));
    expect(validation).toEqual(expected.sort((a, b) => a - b));
  });
});
