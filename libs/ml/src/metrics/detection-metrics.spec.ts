import { describe, expect, it } from 'vitest';
import { iou, nonMaxSuppression } from '../boxes/box.js';
import {
  averagePrecision,
  averagePrecisionForLabel,
  detectionMetrics,
  type DetectionSample,
} from './detection-metrics.js';

describe('iou', () => {
  it('is intersection over union', () => {
    expect(iou({ x: 0, y: 0, width: 1, height: 1 }, { x: 0.5, y: 0, width: 1, height: 1 })).toBeCloseTo(1 / 3);
    expect(iou({ x: 0.2, y: 0.2, width: 0.3, height: 0.3 }, { x: 0.2, y: 0.2, width: 0.3, height: 0.3 })).toBeCloseTo(
      1,
    );
  });

  it('is 0 for boxes that only touch', () => {
    expect(iou({ x: 0, y: 0, width: 0.5, height: 0.5 }, { x: 0.5, y: 0, width: 0.5, height: 0.5 })).toBe(0);
  });
});

describe('non-max suppression', () => {
  it('drops overlapping boxes of the same label only', () => {
    const kept = nonMaxSuppression(
      [
        { label: 0, score: 0.6, x: 0.01, y: 0, width: 0.5, height: 0.5 },
        { label: 0, score: 0.9, x: 0, y: 0, width: 0.5, height: 0.5 },
        { label: 1, score: 0.5, x: 0, y: 0, width: 0.5, height: 0.5 },
        { label: 0, score: 0.4, x: 0.5, y: 0.5, width: 0.5, height: 0.5 },
      ],
      0.5,
    );
    expect(kept.map((box) => box.score)).toEqual([0.9, 0.5, 0.4]);
  });
});

describe('detection metrics', () => {
  const a = { label: 0, x: 0, y: 0, width: 0.5, height: 0.5 };
  const b = { label: 0, x: 0.5, y: 0.5, width: 0.5, height: 0.5 };
  const c = { label: 0, x: 0, y: 0, width: 0.4, height: 0.4 };
  // Ranked: exact hit on a (TP), small box inside b with IoU 0.36 (FP at 0.5), exact hit on c (TP), duplicate of a (FP).
  const samples: DetectionSample[] = [
    {
      groundTruth: [a, b],
      detections: [
        { ...a, score: 0.9 },
        { label: 0, x: 0.6, y: 0.6, width: 0.3, height: 0.3, score: 0.8 },
        { ...a, score: 0.6 },
        { label: 1, x: 0, y: 0, width: 1, height: 1, score: 0.99 },
      ],
    },
    { groundTruth: [c], detections: [{ ...c, score: 0.7 }] },
  ];

  it('computes all-point interpolated AP', () => {
    // recall/precision: 1/3@1, 1/3@1/2, 2/3@2/3, 2/3@1/2 → area = 1/3·1 + 1/3·2/3.
    expect(averagePrecisionForLabel(samples, 0, 0.5)).toBeCloseTo(5 / 9);
    expect(averagePrecision([{ matched: true }, { matched: false }, { matched: true }], 2)).toBeCloseTo(
      0.5 + 0.5 * (2 / 3),
    );
  });

  it('lets a looser overlap threshold accept the small box', () => {
    expect(averagePrecisionForLabel(samples, 0, 0.3)).toBeCloseTo(1);
  });

  it('reports mAP over labels with ground truth and precision/recall at the score threshold', () => {
    const metrics = detectionMetrics(samples, ['square', 'circle'], { scoreThreshold: 0.75 });
    expect(metrics.perLabel[0]).toMatchObject({ label: 'square', support: 3, precision: 0.5 });
    expect(metrics.perLabel[0].ap).toBeCloseTo(5 / 9);
    expect(metrics.perLabel[0].recall).toBeCloseTo(1 / 3);
    expect(metrics.perLabel[1]).toMatchObject({ support: 0, ap: 0 });
    expect(metrics.map50).toBeCloseTo(5 / 9);
    // The two true positives match exactly, so every COCO threshold gives the same AP.
    expect(metrics.map).toBeCloseTo(5 / 9);
    expect(
      detectionMetrics(samples, ['square', 'circle'], { overlapThreshold: 0.3 }).mapAtOverlapThreshold,
    ).toBeCloseTo(1);
  });

  it('gives a loose box credit at 0.5 but not at stricter COCO thresholds', () => {
    const truth = { label: 0, x: 0, y: 0, width: 0.5, height: 0.5 };
    const loose = { label: 0, x: 0, y: 0, width: 0.5, height: 0.35, score: 0.9 }; // IoU 0.7
    const metrics = detectionMetrics([{ groundTruth: [truth], detections: [loose] }], ['square']);
    expect(metrics.map50).toBeCloseTo(1);
    // Matches at 0.50 … 0.70 (5 of 10 thresholds).
    expect(metrics.map).toBeCloseTo(0.5);
  });
});
