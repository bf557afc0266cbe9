import type { DomainEvent } from '@diyml/core/pure';

/** One stream per video sent for prediction through a deployment. */
export const videoPredictionStream = (videoPredictionId: string) => `video-prediction-${videoPredictionId}`;

export type VideoPredictionStatus = 'running' | 'completed' | 'failed';

/** What a video prediction is determined by, frozen when it is requested. */
export interface VideoPredictionSpec {
  deploymentId: string;
  iterationId: string;
  /** The model predicting, and its label names in output order. */
  modelSha256: string;
  labels: string[];
  filename: string;
  videoSha256: string;
  bytes: number;
  container: 'mp4' | 'webm';
  durationMs: number;
  framesPerSecond: number;
  frameCount: number;
  threshold: number | null;
  maxResults: number | null;
}

type Base = { projectId: string; videoPredictionId: string };

export type VideoPredictionRequested = DomainEvent<
  'VideoPredictionRequested',
  Base & VideoPredictionSpec & { requestedAt: string }
>;
export type VideoPredictionProgressed = DomainEvent<'VideoPredictionProgressed', Base & { framesDone: number }>;
export type VideoPredictionCompleted = DomainEvent<
  'VideoPredictionCompleted',
  Base & { framesDone: number; resultsSha256: string; completedAt: string }
>;
export type VideoPredictionFailed = DomainEvent<
  'VideoPredictionFailed',
  Base & { code: string; reason: string; failedAt: string }
>;

export type VideoPredictionEvent =
  VideoPredictionRequested | VideoPredictionProgressed | VideoPredictionCompleted | VideoPredictionFailed;

export const VIDEO_PREDICTION_EVENT_TYPES = [
  'VideoPredictionRequested',
  'VideoPredictionProgressed',
  'VideoPredictionCompleted',
  'VideoPredictionFailed',
] as const satisfies readonly VideoPredictionEvent['type'][];
