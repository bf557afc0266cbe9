import { describe, expect, it } from 'vitest';
import { isDomainError } from '@diyml/core/pure';
import type { StoredEvaluation } from '../../jobs/evaluation.js';
import type { ManifestImage } from '../../manifest/dataset-manifest.js';
import { imagePerformancesOf } from './image-performances.js';

const labels = [
  { id: 'l-cat', name: 'cat' },
  { id: 'l-dog', name: 'dog' },
];
const image = (id: string): ManifestImage => ({
  id,
  sha256: `sha-${id}`,
  filename: `${id}.png`,
  width: 40,
  height: 30,
  split: 'validation',
  labelId: null,
  regions: [],
});
const images = ['a', 'b', 'c'].map(image);

const detection: StoredEvaluation = {
  v: 1,
  task: 'detection',
  labels: ['cat', 'dog'],
  imageIds: ['a', 'b', 'c'],
  samples: [
    {
      groundTruth: [{ label: 0, x: 0.1, y: 0.1, width: 0.2, height: 0.2 }],
      detections: [
        { label: 1, x: 0.5, y: 0.5, width: 0.1, height: 0.1, score: 0.3 },
        { label: 0, x: 0.1, y: 0.1, width: 0.2, height: 0.2, score: 0.9 },
      ],
    },
    {
      groundTruth: [{ label: 1, x: 0.4, y: 0.4, width: 0.2, height: 0.2 }],
      detections: [{ label: 1, x: 0.4, y: 0.4, width: 0.2, height: 0.2, score: 0.2 }],
    },
    {
      groundTruth: [
        { label: 0, x: 0, y: 0, width: 1, height: 1 },
        { label: 1, x: 0, y: 0, width: 0.5, height: 0.5 },
      ],
      detections: [],
    },
  ],
};

const ids = (found: { imageId: string }[]) => found.map((entry) => entry.imageId);

describe('imagePerformancesOf (detection)', () => {
  it('gives each validation image its regions and the boxes found at the threshold, most probable first', () => {
    const [first] = imagePerformancesOf(detection, images, labels, { threshold: 0.25 });
    expect(first).toEqual({
      imageId: 'a',
      filename: 'a.png',
      width: 40,
      height: 30,
      expected: [{ labelId: 'l-cat', label: 'cat', box: { x: 0.1, y: 0.1, width: 0.2, height: 0.2 } }],
      predictions: [
        { labelId: 'l-cat', label: 'cat', probability: 0.9, box: { x: 0.1, y: 0.1, width: 0.2, height: 0.2 } },
        { labelId: 'l-dog', label: 'dog', probability: 0.3, box: { x: 0.5, y: 0.5, width: 0.1, height: 0.1 } },
      ],
      predictedLabelId: null,
      correct: null,
    });
    expect(
      imagePerformancesOf(detection, images, labels, { threshold: 0.5 })[0].predictions.map((box) => box.label),
    ).toEqual(['cat']);
  });

  it('filters by a region label (any of several), by a box found at the threshold, or by nothing found', () => {
    expect(ids(imagePerformancesOf(detection, images, labels, { labels: ['dog'], threshold: 0 }))).toEqual(['b', 'c']);
    expect(ids(imagePerformancesOf(detection, images, labels, { labels: ['l-cat', 'dog'], threshold: 0 }))).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(ids(imagePerformancesOf(detection, images, labels, { predicted: 'dog', threshold: 0.25 }))).toEqual(['a']);
    expect(ids(imagePerformancesOf(detection, images, labels, { predicted: 'dog', threshold: 0.1 }))).toEqual([
      'a',
      'b',
    ]);
    expect(ids(imagePerformancesOf(detection, images, labels, { predicted: 'none', threshold: 0.25 }))).toEqual([
      'b',
      'c',
    ]);
  });

  it('refuses a label the iteration does not have, and an evaluation stored without image ids', () => {
    expect(() => imagePerformancesOf(detection, images, labels, { labels: ['bird'], threshold: 0 })).toThrow(
      /no label "bird"/,
    );
    const { imageIds: _, ...older } = detection;
    try {
      imagePerformancesOf(older, images, labels, { threshold: 0 });
      throw new Error('expected a refusal');
    } catch (error) {
      expect(isDomainError(error, 'IMAGE_PERFORMANCES_NOT_RECORDED')).toBe(true);
    }
  });
});
