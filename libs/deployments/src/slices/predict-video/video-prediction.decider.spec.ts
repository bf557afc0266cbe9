import { describe, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { videoPredictionDecider } from './video-prediction.decider.js';
import type { VideoPredictionEvent, VideoPredictionSpec } from './video-prediction.events.js';

const now = new Date('2026-12-01T20:00:00.000Z');
const metadata = { userId: null, correlationId: 'c1', now };
const spec = deciderSpecification(videoPredictionDecider);
const ids = { projectId: 'p1', videoPredictionId: 'vp1' };
const prediction: VideoPredictionSpec = {
  deploymentId: 'd1',
  iterationId: 'i1',
  modelSha256: 'm',
  labels: ['red', 'blue'],
  filename: 'clip.webm',
  videoSha256: 'v',
  bytes: 5000,
  container: 'webm',
  durationMs: 3000,
  framesPerSecond: 1,
  frameCount: 3,
  threshold: null,
  maxResults: null,
};
const requested: VideoPredictionEvent = {
  type: 'VideoPredictionRequested',
  v: 1,
  data: { ...ids, ...prediction, requestedAt: now.toISOString() },
};
const completed: VideoPredictionEvent = {
  type: 'VideoPredictionCompleted',
  v: 1,
  data: { ...ids, framesDone: 3, resultsSha256: 'r', completedAt: now.toISOString() },
};

describe('video prediction decider', () => {
  it('records a request once', () => {
    const request = {
      type: 'RequestVideoPrediction' as const,
      projectId: 'p1',
      videoPredictionId: 'vp1',
      spec: prediction,
      metadata,
    };
    spec.given([]).when(request).then([requested]);
    spec.given([requested]).when(request).thenThrows('VIDEO_PREDICTION_ALREADY_EXISTS');
  });

  it('records progress forward only, then the results once', () => {
    spec
      .given([requested])
      .when({ type: 'RecordVideoPredictionProgress', framesDone: 2, metadata })
      .then([{ type: 'VideoPredictionProgressed', v: 1, data: { ...ids, framesDone: 2 } }]);
    spec
      .given([requested, { type: 'VideoPredictionProgressed', v: 1, data: { ...ids, framesDone: 2 } }])
      .when({ type: 'RecordVideoPredictionProgress', framesDone: 1, metadata })
      .then([]);
    spec
      .given([requested])
      .when({ type: 'CompleteVideoPrediction', framesDone: 3, resultsSha256: 'r', metadata })
      .then([completed]);
    spec
      .given([requested, completed])
      .when({ type: 'FailVideoPrediction', code: 'X', reason: 'late', metadata })
      .then([]);
    spec
      .given([])
      .when({ type: 'FailVideoPrediction', code: 'X', reason: 'none', metadata })
      .thenThrows('VIDEO_PREDICTION_NOT_FOUND');
  });
});
