import { describe, expect, it } from 'vitest';
import type { Prediction } from '@diyml/ml';
import { resultsOf } from '../jobs/test-run-results.js';
import { boxMatchesOf } from './box-matches.js';
import type { TestManifest } from './test-manifest.js';

const square = { x: 0.1, y: 0.1, width: 0.4, height: 0.4 };
const elsewhere = { x: 0.6, y: 0.6, width: 0.3, height: 0.3 };

function manifestOf(...regionsPerImage: TestManifest['images'][number]['regions'][]): TestManifest {
  return {
    v: 1,
    projectId: 'p',
    iterationId: 'i',
    task: 'detection',
    labels: ['red'],
    images: regionsPerImage.map((regions, index) => ({
      filename: `${index}.png`,
      imageId: null,
      sha256: String(index),
      expected: null,
      regions,
    })),
  };
}

describe('box matches of one detection test image', () => {
  it('counts a labeled box found at IoU ≥ 0.5 as matched, one without a found box as missed', () => {
    const expected = [
      { label: 'red', ...square },
      { label: 'red', ...elsewhere },
    ];
    const found = [{ label: 'red', probability: 0.9, ...square, x: 0.12 }];
    expect(boxMatchesOf(expected, found)).toEqual({
      scoreThreshold: 0.5,
      overlapThreshold: 0.5,
      matched: 1,
      missed: 1,
      falsePositives: 0,
    });
  });

  it('counts a box of the wrong label, in the wrong place, or a second box on one object as false', () => {
    const expected = [{ label: 'red', ...square }];
    const found = [
      { label: 'red', probability: 0.9, ...square },
      { label: 'red', probability: 0.8, ...square },
      { label: 'blue', probability: 0.7, ...square },
      { label: 'red', probability: 0.6, ...elsewhere },
    ];
    expect(boxMatchesOf(expected, found)).toMatchObject({ matched: 1, missed: 0, falsePositives: 3 });
  });

  it('ignores boxes below the score threshold: a box at 30% on the object finds nothing, though AP counts it', () => {
    const expected = [{ label: 'red', ...square }];
    expect(boxMatchesOf(expected, [{ label: 'red', probability: 0.3, ...square }])).toMatchObject({
      matched: 0,
      missed: 1,
      falsePositives: 0,
    });
    const { metrics, predictions } = resultsOf(manifestOf([{ label: 0, ...square }]), [
      [{ label: 'red', labelIndex: 0, probability: 0.3, box: square }],
    ]);
    expect(predictions[0].predicted).toEqual([]);
    expect(metrics).toMatchObject({ map50: 1, recall: 0, precision: 0 });
  });

  it('summed over a run, agrees with the run precision and recall, which mAP@50 does not', () => {
    const manifest = manifestOf([{ label: 0, ...square }], [{ label: 0, ...square }], [{ label: 0, ...elsewhere }]);
    const red = (probability: number, box: typeof square): Prediction => ({
      label: 'red',
      labelIndex: 0,
      probability,
      box,
    });
    const predicted = [[red(0.3, square)], [red(0.95, square)], [red(0.9, elsewhere), red(0.6, square)]];
    const { metrics, predictions } = resultsOf(manifest, predicted);
    if (metrics.task !== 'detection') throw new Error(`detection metrics expected, got ${metrics.task}`);
    // AP ranks every box, the one at 30% too: it credits low.png's box, which no count at 50% does.
    expect(metrics.map50).toBeCloseTo(11 / 12, 10);
    expect(metrics.recall).toBeCloseTo(2 / 3, 10);
    const matches = predictions.map((prediction) =>
      boxMatchesOf(
        prediction.expected as Parameters<typeof boxMatchesOf>[0],
        prediction.predicted as Parameters<typeof boxMatchesOf>[1],
      ),
    );
    expect(matches.map(({ matched, missed, falsePositives }) => [matched, missed, falsePositives])).toEqual([
      [0, 1, 0],
      [1, 0, 0],
      [1, 0, 1],
    ]);
    const total = (key: 'matched' | 'missed' | 'falsePositives') => matches.reduce((sum, match) => sum + match[key], 0);
    expect(metrics.recall).toBeCloseTo(total('matched') / (total('matched') + total('missed')), 10);
    expect(metrics.precision).toBeCloseTo(total('matched') / (total('matched') + total('falsePositives')), 10);
  });
});
