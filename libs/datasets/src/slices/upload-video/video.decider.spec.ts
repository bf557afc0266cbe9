import { describe, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { videoDecider } from './video.decider.js';
import type { VideoEvent, VideoSpec } from './video.events.js';

const now = new Date('2026-12-01T20:00:00.000Z');
const metadata = { userId: 'u1', correlationId: 'c1', now };
const spec = deciderSpecification(videoDecider);
const ids = { projectId: 'p1', videoId: 'v1' };
const video: VideoSpec = {
  filename: 'walk.mp4',
  sha256: 's',
  bytes: 3000,
  container: 'mp4',
  durationMs: 2000,
  width: 32,
  height: 24,
  framesPerSecond: 2,
  frameCount: 4,
  labelId: null,
  split: 'train',
};
const uploaded: VideoEvent = {
  type: 'VideoUploaded',
  v: 1,
  data: { ...ids, projectType: 'classification', ...video, uploadedAt: now.toISOString() },
};
const counts = { framesDone: 4, created: 3, duplicates: 1, rejected: 0 };
const extracted: VideoEvent = {
  type: 'VideoFramesExtracted',
  v: 1,
  data: { ...ids, ...counts, completedAt: now.toISOString() },
};

describe('video decider', () => {
  it('records an upload once', () => {
    spec
      .given([])
      .when({
        type: 'UploadVideo',
        projectId: 'p1',
        projectType: 'classification',
        videoId: 'v1',
        spec: video,
        metadata,
      })
      .then([uploaded]);
    spec
      .given([uploaded])
      .when({
        type: 'UploadVideo',
        projectId: 'p1',
        projectType: 'classification',
        videoId: 'v1',
        spec: video,
        metadata,
      })
      .thenThrows('VIDEO_ALREADY_EXISTS');
  });

  it('records progress only when it moves forward', () => {
    const progress = {
      type: 'RecordFrameProgress' as const,
      counts: { framesDone: 2, created: 2, duplicates: 0, rejected: 0 },
      metadata,
    };
    spec
      .given([uploaded])
      .when(progress)
      .then([{ type: 'VideoFramesProgressed', v: 1, data: { ...ids, ...progress.counts } }]);
    spec
      .given([uploaded, { type: 'VideoFramesProgressed', v: 1, data: { ...ids, ...progress.counts } }])
      .when(progress)
      .then([]);
  });

  it('completes or fails an extraction once, and leaves a finished one alone', () => {
    spec.given([uploaded]).when({ type: 'CompleteFrameExtraction', counts, metadata }).then([extracted]);
    spec
      .given([uploaded, extracted])
      .when({ type: 'FailFrameExtraction', code: 'X', reason: 'late', metadata })
      .then([]);
    spec
      .given([uploaded])
      .when({ type: 'FailFrameExtraction', code: 'VIDEO_UNDECODABLE', reason: 'cut', metadata })
      .then([
        {
          type: 'VideoFrameExtractionFailed',
          v: 1,
          data: { ...ids, code: 'VIDEO_UNDECODABLE', reason: 'cut', failedAt: now.toISOString() },
        },
      ]);
    spec.given([]).when({ type: 'CompleteFrameExtraction', counts, metadata }).thenThrows('VIDEO_NOT_FOUND');
  });
});
