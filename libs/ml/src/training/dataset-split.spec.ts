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

describe('splitExamples for multilabel', () => {
  const tagged = (...labels: number[]): TrainingExample => ({ image: new Uint8Array(), labels });
  /** 40 photos tagged outdoor (0), 5 of them also tagged snow (1), and 5 untagged photos. */
  const outdoorsWithSomeSnow = [
    ...Array.from({ length: 35 }, () => tagged(0)),
    ...Array.from({ length: 5 }, () => tagged(0, 1)),
    ...Array.from({ length: 5 }, () => tagged()),
  ];
  const snowHeld = (validation: number[]) => validation.filter((index) => index >= 35 && index < 40).length;

  it('holds out the validation fraction of each label, counting a photo by its rarest label, whatever the seed', () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const { train, validation } = splitExamples(outdoorsWithSomeSnow, 0.2, new SeededRandom(seed), {
        multilabelByLabel: true,
      });
      expect(snowHeld(validation)).toBe(1);
      expect(validation.filter((index) => index < 35)).toHaveLength(7);
      expect(validation.filter((index) => index >= 40)).toHaveLength(1);
      expect([...train, ...validation].sort((a, b) => a - b)).toEqual(outdoorsWithSomeSnow.map((_, index) => index));
    }
  });

  it('gives each label of two or more photos a validation photo, where each of its labels keeps a training photo', () => {
    // Night (2) is on 2 photos, too few for a fifth of them; dog (3) is never a photo's rarest label, as each of its
    // photos also shows night or snow; fog (4) is on one photo only, which training needs.
    const examples = [
      ...Array.from({ length: 20 }, () => tagged(0)),
      tagged(0, 1),
      tagged(0, 1),
      tagged(0, 1, 3),
      tagged(0, 2),
      tagged(0, 2, 3),
      tagged(0, 4),
    ];
    const held = (validation: number[], label: number) =>
      validation.filter((index) => examples[index].labels!.includes(label)).length;
    for (const seed of [1, 2, 3, 42, 1234]) {
      const { train, validation } = splitExamples(examples, 0.2, new SeededRandom(seed), { multilabelByLabel: true });
      for (const label of [0, 1, 2, 3]) {
        expect(held(validation, label)).toBeGreaterThanOrEqual(1);
        expect(held(train, label)).toBeGreaterThanOrEqual(1);
      }
      expect(held(validation, 4)).toBe(0);
      expect([...train, ...validation].sort((a, b) => a - b)).toEqual(examples.map((_, index) => index));
    }
  });

  it("leaves a label of two photos in training when each of them is its other label's only training photo", () => {
    const examples = [tagged(0, 1), tagged(0, 2), tagged(1), tagged(2)];
    const fixed = examples.map((example, index) =>
      index >= 2 ? { ...example, split: 'validation' as const } : example,
    );
    expect(splitExamples(fixed, 0.2, new SeededRandom(1), { multilabelByLabel: true })).toEqual({
      train: [0, 1],
      validation: [2, 3],
    });
  });

  it('holds out nothing when the validation fraction is 0', () => {
    const { validation } = splitExamples(outdoorsWithSomeSnow, 0, new SeededRandom(1), { multilabelByLabel: true });
    expect(validation).toEqual([]);
  });

  it('is the same split for the same seed', () => {
    const split = () => splitExamples(outdoorsWithSomeSnow, 0.2, new SeededRandom(9), { multilabelByLabel: true });
    expect(split()).toEqual(split());
  });

  it('draws at random as one group without multilabelByLabel, as iterations before it did: snow may get no validation photo', () => {
    const random = new SeededRandom(42);
    const expected = random.shuffled(outdoorsWithSomeSnow.map((_, index) => index)).slice(0, 9);
    const { validation } = splitExamples(outdoorsWithSomeSnow, 0.2, new SeededRandom(42));
    expect(validation).toEqual(expected.sort((a, b) => a - b));
    expect(snowHeld(splitExamples(outdoorsWithSomeSnow, 0.2, new SeededRandom(3)).validation)).toBe(0);
  });
});
