import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore, updateStreamDocument } from '@diyml/read-store/pure';
import type { Split } from '../../domain/image.events.js';
import { VIDEO_EVENT_TYPES, type VideoEvent, type VideoStatus } from './video.events.js';

export const VIDEOS = 'videos';

/** Read-model document of one uploaded video and its frame extraction (collection `videos`). */
export interface VideoView {
  id: string;
  projectId: string;
  filename: string;
  sha256: string;
  bytes: number;
  container: 'mp4' | 'webm';
  durationMs: number;
  width: number;
  height: number;
  framesPerSecond: number;
  labelId: string | null;
  split: Split;
  status: VideoStatus;
  progress: { framesDone: number; frameCount: number };
  created: number;
  duplicates: number;
  rejected: number;
  error: { code: string; reason: string } | null;
  uploadedAt: string;
  completedAt: string | null;
  revision: number;
}

/** Videos with the progress of their frame extraction. */
@ReadModelProjection()
@Injectable()
export class VideosProjection implements Projection<VideoEvent> {
  readonly name = 'videos';
  readonly version = 1;
  readonly collections = [VIDEOS];
  readonly eventTypes = VIDEO_EVENT_TYPES;

  async apply(event: Recorded<VideoEvent>, store: ReadStore): Promise<void> {
    const videos = store.collection<VideoView>(VIDEOS);
    const update = (change: (view: VideoView) => Partial<VideoView>) =>
      updateStreamDocument(videos, event.data.videoId, event, change);
    switch (event.type) {
      case 'VideoUploaded': {
        const data = event.data;
        await videos.apply(data.videoId, event.position, () => ({
          id: data.videoId,
          projectId: data.projectId,
          filename: data.filename,
          sha256: data.sha256,
          bytes: data.bytes,
          container: data.container,
          durationMs: data.durationMs,
          width: data.width,
          height: data.height,
          framesPerSecond: data.framesPerSecond,
          labelId: data.labelId,
          split: data.split,
          status: 'extracting',
          progress: { framesDone: 0, frameCount: data.frameCount },
          created: 0,
          duplicates: 0,
          rejected: 0,
          error: null,
          uploadedAt: data.uploadedAt,
          completedAt: null,
          revision: event.revision,
        }));
        return;
      }
      case 'VideoFramesProgressed':
      case 'VideoFramesExtracted': {
        const { framesDone, created, duplicates, rejected } = event.data;
        const finished =
          event.type === 'VideoFramesExtracted'
            ? { status: 'completed' as const, completedAt: event.data.completedAt }
            : {};
        await update((view) => ({
          progress: { framesDone, frameCount: view.progress.frameCount },
          created,
          duplicates,
          rejected,
          ...finished,
        }));
        return;
      }
      case 'VideoFrameExtractionFailed':
        await update(() => ({
          status: 'failed',
          error: { code: event.data.code, reason: event.data.reason },
          completedAt: event.data.failedAt,
        }));
        return;
    }
  }
}
