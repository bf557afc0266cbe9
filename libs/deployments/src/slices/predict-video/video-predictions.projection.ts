import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore, updateStreamDocument } from '@diyml/read-store/pure';
import {
  VIDEO_PREDICTION_EVENT_TYPES,
  type VideoPredictionEvent,
  type VideoPredictionStatus,
} from './video-prediction.events.js';

export const VIDEO_PREDICTIONS = 'video-predictions';

/** Read-model document of one video prediction (collection `video-predictions`). */
export interface VideoPredictionView {
  id: string;
  projectId: string;
  deploymentId: string;
  iterationId: string;
  filename: string;
  container: 'mp4' | 'webm';
  durationMs: number;
  framesPerSecond: number;
  status: VideoPredictionStatus;
  progress: { framesDone: number; frameCount: number };
  /** sha256 of the per-frame predictions blob, once completed. */
  resultsSha256: string | null;
  error: { code: string; reason: string } | null;
  requestedAt: string;
  completedAt: string | null;
  revision: number;
}

/** Video predictions with their progress. */
@ReadModelProjection()
@Injectable()
export class VideoPredictionsProjection implements Projection<VideoPredictionEvent> {
  readonly name = 'video-predictions';
  readonly version = 1;
  readonly collections = [VIDEO_PREDICTIONS];
  readonly eventTypes = VIDEO_PREDICTION_EVENT_TYPES;

  async apply(event: Recorded<VideoPredictionEvent>, store: ReadStore): Promise<void> {
    const predictions = store.collection<VideoPredictionView>(VIDEO_PREDICTIONS);
    const update = (change: (view: VideoPredictionView) => Partial<VideoPredictionView>) =>
      updateStreamDocument(predictions, event.data.videoPredictionId, event, change);
    switch (event.type) {
      case 'VideoPredictionRequested': {
        const data = event.data;
        await predictions.apply(data.videoPredictionId, event.position, () => ({
          id: data.videoPredictionId,
          projectId: data.projectId,
          deploymentId: data.deploymentId,
          iterationId: data.iterationId,
          filename: data.filename,
          container: data.container,
          durationMs: data.durationMs,
          framesPerSecond: data.framesPerSecond,
          status: 'running',
          progress: { framesDone: 0, frameCount: data.frameCount },
          resultsSha256: null,
          error: null,
          requestedAt: data.requestedAt,
          completedAt: null,
          revision: event.revision,
        }));
        return;
      }
      case 'VideoPredictionProgressed':
        await update((view) => ({ progress: { ...view.progress, framesDone: event.data.framesDone } }));
        return;
      case 'VideoPredictionCompleted':
        await update((view) => ({
          status: 'completed',
          progress: { ...view.progress, framesDone: event.data.framesDone },
          resultsSha256: event.data.resultsSha256,
          completedAt: event.data.completedAt,
        }));
        return;
      case 'VideoPredictionFailed':
        await update(() => ({
          status: 'failed',
          error: { code: event.data.code, reason: event.data.reason },
          completedAt: event.data.failedAt,
        }));
        return;
    }
  }
}
