import { describe, expect, it } from 'vitest';
import { imageSuggestionOf, MAX_SUGGESTED_LABELS } from './image-suggestion.js';

describe('image suggestion', () => {
  it('classification: the most probable labels as project label ids, with the entropy as uncertainty', () => {
    const labelIds = Array.from({ length: 7 }, (_, index) => `l${index}`);
    const probabilities = [0.05, 0.4, 0.05, 0.3, 0.1, 0.05, 0.05];
    const predictions = probabilities.map((probability, labelIndex) => ({
      label: `n${labelIndex}`,
      labelIndex,
      probability,
    }));
    const suggestion = imageSuggestionOf('img', 'classification', labelIds, predictions);
    expect(suggestion.predictions).toHaveLength(MAX_SUGGESTED_LABELS);
    expect(suggestion.predictions.slice(0, 3)).toEqual([
      { labelId: 'l1', probability: 0.4, box: null },
      { labelId: 'l3', probability: 0.3, box: null },
      { labelId: 'l4', probability: 0.1, box: null },
    ]);
    expect(suggestion.uncertainty).toBeCloseTo(-probabilities.reduce((sum, p) => sum + p * Math.log(p), 0), 10);
    const sure = imageSuggestionOf(
      'img',
      'classification',
      ['a', 'b'],
      [
        { label: 'a', labelIndex: 0, probability: 1 },
        { label: 'b', labelIndex: 1, probability: 0 },
      ],
    );
    expect(sure.uncertainty).toBe(0);
  });

  it('detection: boxes at least 0.1 probable, most probable first; no boxes is certain', () => {
    const box = { x: 0.1, y: 0.2, width: 0.3, height: 0.4 };
    const suggestion = imageSuggestionOf(
      'img',
      'detection',
      ['car', 'bus'],
      [
        { label: 'bus', labelIndex: 1, probability: 0.5, box },
        { label: 'car', labelIndex: 0, probability: 0.9, box },
        { label: 'car', labelIndex: 0, probability: 0.05, box },
      ],
    );
    expect(suggestion.predictions).toEqual([
      { labelId: 'car', probability: 0.9, box },
      { labelId: 'bus', probability: 0.5, box },
    ]);
    expect(suggestion.uncertainty).toBeCloseTo((-(0.9 * Math.log(0.9) + 0.1 * Math.log(0.1)) + Math.log(2)) / 2, 10);
    expect(imageSuggestionOf('img', 'detection', ['car'], []).uncertainty).toBe(0);
  });
});
