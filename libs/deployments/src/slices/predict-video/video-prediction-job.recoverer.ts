import { Injectable } from '@nestjs/common';
import { CommandPipeline, EventStore, loadStream } from '@diyml/event-store';
import { JobQueue, type LostJobRecoverer, onBehalfOf, RecoversLostJobs } from '@diyml/jobs';
import { ReadStore } from '@diyml/read-store';
import { videoPredictionDecider } from './video-prediction.decider.js';
import { videoPredictionStream } from './video-prediction.events.js';
import { VIDEO_PREDICTION_QUEUE, type VideoPredictionJobPayload } from './video-prediction.job.js';
import { VIDEO_PREDICTIONS, type VideoPredictionView } from './video-predictions.projection.js';

/**
 * Video predictions still running whose job was lost (see LostJobsSweeper). The job is idempotent by prediction id:
 * it does nothing for a finished one, and predicts the same frames with the same frozen model otherwise (progress
 * already recorded is not recorded again).
 */
@RecoversLostJobs()
@Injectable()
export class LostVideoPredictionJobsRecoverer implements LostJobRecoverer<VideoPredictionView> {
  readonly kind = 'video predictions';
  readonly queue = VIDEO_PREDICTION_QUEUE;

  constructor(
    private readonly jobs: JobQueue,
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly readStore: ReadStore,
  ) {}

  unfinished(): Promise<VideoPredictionView[]> {
    return this.readStore.collection<VideoPredictionView>(VIDEO_PREDICTIONS).findAll({ status: 'running' });
  }

  async requeue({ id }: VideoPredictionView): Promise<boolean> {
    const { state } = await loadStream(this.events, videoPredictionStream(id), videoPredictionDecider);
    if (state.status !== 'running') return false;
    const payload: VideoPredictionJobPayload = { v: 1, videoPredictionId: id };
    await this.jobs.enqueue({ queue: VIDEO_PREDICTION_QUEUE, id, payload });
    return true;
  }

  async fail({ id }: VideoPredictionView): Promise<boolean> {
    const stream = videoPredictionStream(id);
    const [requested] = await this.events.readStream(stream);
    // Failing a prediction that finished meanwhile is a no-op of the decider.
    const { events } = await this.pipeline.on(stream, videoPredictionDecider).run({
      context: onBehalfOf(requested),
      command: (_, metadata) => ({
        type: 'FailVideoPrediction',
        code: 'JOB_LOST',
        reason:
          'Its job ended without its outcome being recorded (the database did not answer then): send the video again.',
        metadata,
      }),
      waitForReadModels: false,
    });
    return events.length > 0;
  }
}
