import type { DomainEvent } from '@diyml/core/pure';
import type { Split } from '../../domain/image.events.js';

/** One stream per uploaded video: its frames are extracted into the project's images by a job. */
export const videoStream = (videoId: string) => `video-${videoId}`;

export type VideoStatus = 'extracting' | 'completed' | 'failed';

/** What the frame extraction is determined by, frozen at upload. */
export interface VideoSpec {
  filename: string;
  /** sha256 of the video blob. */
  sha256: string;
  bytes: number;
  container: 'mp4' | 'webm';
  durationMs: number;
  width: number;
  height: number;
  framesPerSecond: number;
  /** Frames the extraction takes (the rate over the duration, at most VIDEO_MAX_FRAMES). */
  frameCount: number;
  /** Given to every frame. */
  labelId: string | null;
  split: Split;
}

export interface FrameCounts {
  framesDone: number;
  created: number;
  duplicates: number;
  rejected: number;
}

type Base = { projectId: string; videoId: string };

export type VideoUploaded = DomainEvent<
  'VideoUploaded',
  Base & VideoSpec & { projectType: 'classification' | 'multilabel' | 'detection'; uploadedAt: string }
>;
export type VideoFramesProgressed = DomainEvent<'VideoFramesProgressed', Base & FrameCounts>;
export type VideoFramesExtracted = DomainEvent<'VideoFramesExtracted', Base & FrameCounts & { completedAt: string }>;
export type VideoFrameExtractionFailed = DomainEvent<
  'VideoFrameExtractionFailed',
  Base & { code: string; reason: string; failedAt: string }
>;

export type VideoEvent = VideoUploaded | VideoFramesProgressed | VideoFramesExtracted | VideoFrameExtractionFailed;

export const VIDEO_EVENT_TYPES = [
  'VideoUploaded',
  'VideoFramesProgressed',
  'VideoFramesExtracted',
  'VideoFrameExtractionFailed',
] as const satisfies readonly VideoEvent['type'][];
