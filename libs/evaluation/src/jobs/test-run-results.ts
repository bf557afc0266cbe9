import type { Prediction } from '@diyml/ml';
import {
  type ClassificationAveragePrecision,
  classificationAveragePrecisionOf,
  DEFAULT_METRICS_OPTIONS,
  type MetricsAtThresholds,
  metricsOf,
  type StoredEvaluation,
} from '@diyml/training';
import { SHOWN_BOX_SCORE } from '../domain/box-matches.js';
import type { TestManifest, TestPrediction } from '../domain/test-manifest.js';

export interface TestRunResults {
  evaluation: StoredEvaluation;
  metrics: MetricsAtThresholds;
  /** Classification: the figures no threshold changes, recorded with the metrics. */
  averagePrecision?: ClassificationAveragePrecision;
  predictions: TestPrediction[];
}

/** Turns the model's predictions on the manifest's images into metrics and per-image results. */
export function resultsOf(manifest: TestManifest, predicted: Prediction[][]): TestRunResults {
  const { labels } = manifest;
  if (manifest.task === 'classification') {
    const probabilities = predicted.map((predictions) => {
      const row = new Array<number>(labels.length).fill(0);
      for (const prediction of predictions) row[prediction.labelIndex] = prediction.probability;
      return row;
    });
    const expected = manifest.images.map((image) => image.expected ?? -1);
    const evaluation: StoredEvaluation = { v: 1, task: 'classification', labels, expected, probabilities };
    const predictions = manifest.images.map((image, index): TestPrediction => {
      const top = predicted[index][0];
      const expectedLabel = labels[image.expected ?? -1] ?? '';
      return {
        filename: image.filename,
        imageId: image.imageId,
        expected: expectedLabel,
        predicted: top?.label ?? '',
        confidence: top?.probability ?? 0,
        correct: top !== undefined && top.labelIndex === image.expected,
      };
    });
    const metrics = metricsOf(evaluation, DEFAULT_METRICS_OPTIONS.classification);
    const averagePrecision = classificationAveragePrecisionOf(metrics, evaluation);
    return { evaluation, metrics, averagePrecision, predictions };
  }
  if (manifest.task === 'multilabel') {
    const probabilities = predicted.map((predictions) => {
      const row = new Array<number>(labels.length).fill(0);
      for (const prediction of predictions) row[prediction.labelIndex] = prediction.probability;
      return row;
    });
    const expected = manifest.images.map((image) => image.expectedLabels ?? []);
    const evaluation: StoredEvaluation = { v: 1, task: 'multilabel', labels, expected, probabilities };
    const { threshold } = DEFAULT_METRICS_OPTIONS.multilabel;
    const predictions = manifest.images.map((image, index): TestPrediction => {
      const given = probabilities[index].flatMap((probability, label) => (probability >= threshold ? [label] : []));
      const wanted = expected[index];
      return {
        filename: image.filename,
        imageId: image.imageId,
        expected: wanted.map((label) => labels[label]),
        predicted: given.map((label) => labels[label]),
        confidence: predicted[index][0]?.probability ?? 0,
        correct: given.length === wanted.length && given.every((label) => wanted.includes(label)),
      };
    });
    return { evaluation, metrics: metricsOf(evaluation, DEFAULT_METRICS_OPTIONS.multilabel), predictions };
  }
  const samples = manifest.images.map((image, index) => ({
    groundTruth: image.regions,
    detections: predicted[index]
      .filter((prediction) => prediction.box)
      .map((prediction) => ({ ...prediction.box!, label: prediction.labelIndex, score: prediction.probability })),
  }));
  const evaluation: StoredEvaluation = { v: 1, task: 'detection', labels, samples };
  const predictions = manifest.images.map((image, index): TestPrediction => {
    const boxes = predicted[index].filter((prediction) => prediction.box && prediction.probability >= SHOWN_BOX_SCORE);
    return {
      filename: image.filename,
      imageId: image.imageId,
      expected: image.regions.map(({ label, x, y, width, height }) => ({ label: labels[label], x, y, width, height })),
      predicted: boxes.map(({ label, probability, box }) => ({ label, probability, ...box! })),
      confidence: predicted[index][0]?.probability ?? 0,
    };
  });
  return { evaluation, metrics: metricsOf(evaluation, DEFAULT_METRICS_OPTIONS.detection), predictions };
}

export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
}
