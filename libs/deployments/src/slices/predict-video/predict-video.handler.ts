import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { createReadStream } from 'node:fs';
import { BlobStore } from '@diyml/blobs';
import { DomainError, IdGenerator, type RequestContext } from '@diyml/core';
import { UploadLimits } from '@diyml/datasets';
import type { UploadedFile } from '@diyml/datasets';
import { frameCountOf, inspectVideo, receivedVideo } from '@diyml/datasets';
import { CommandPipeline } from '@diyml/event-store';
import { ReadStore } from '@diyml/read-store';
import type { DeploymentView } from '../../read-models/deployments/deployment.view.js';
import { videoPredictionDecider } from './video-prediction.decider.js';
import { videoPredictionStream } from './video-prediction.events.js';
import { VIDEO_PREDICTIONS, type VideoPredictionView } from './video-predictions.projection.js';

export interface VideoPredictionOptions {
  framesPerSecond: number;
  threshold?: number;
  maxResults?: number;
}

export class PredictVideo extends Command<VideoPredictionView> {
  constructor(
    readonly deployment: DeploymentView,
    /** The video, in a temporary file the request removes when it is over. */
    readonly file: UploadedFile | undefined,
    readonly options: VideoPredictionOptions,
    readonly context: RequestContext,
  ) {
    super();
  }
}

/** A video prediction of the deployment, or 404 VIDEO_PREDICTION_NOT_FOUND (also for another deployment's). */
export async function findVideoPrediction(
  readStore: ReadStore,
  deploymentId: string,
  videoPredictionId: string,
): Promise<VideoPredictionView> {
  const prediction = await readStore.collection<VideoPredictionView>(VIDEO_PREDICTIONS).get(videoPredictionId);
  if (!prediction || prediction.deploymentId !== deploymentId) {
    throw DomainError.notFound(
      'VIDEO_PREDICTION_NOT_FOUND',
      `Video prediction ${videoPredictionId} does not exist for this deployment.`,
    );
  }
  return prediction;
}

/**
 * Checks a video (size, container, first frame decodes) before anything is kept, stores it and appends
 * VideoPredictionRequested with the deployment's model frozen; a reactor queues the job that predicts its frames.
 */
@CommandHandler(PredictVideo)
export class PredictVideoHandler implements ICommandHandler<PredictVideo> {
  constructor(
    private readonly limits: UploadLimits,
    private readonly blobs: BlobStore,
    private readonly pipeline: CommandPipeline,
    private readonly readStore: ReadStore,
    private readonly ids: IdGenerator,
  ) {}

  async execute({ deployment, file, options, context }: PredictVideo): Promise<VideoPredictionView> {
    const { path, filename } = receivedVideo(file, this.limits.VIDEO_MAX_BYTES);
    const info = await inspectVideo(path);
    const stored = await this.blobs.putStream(createReadStream(path));
    const videoPredictionId = this.ids.newId();
    await this.pipeline.on(videoPredictionStream(videoPredictionId), videoPredictionDecider).run({
      context,
      command: (_, metadata) => ({
        type: 'RequestVideoPrediction',
        projectId: deployment.projectId,
        videoPredictionId,
        spec: {
          deploymentId: deployment.id,
          iterationId: deployment.iterationId,
          modelSha256: deployment.modelSha256,
          labels: deployment.labels,
          filename: filename.slice(0, 500),
          videoSha256: stored.sha256,
          bytes: stored.bytes,
          container: info.container,
          durationMs: info.durationMs,
          framesPerSecond: options.framesPerSecond,
          frameCount: frameCountOf(info.durationMs, options.framesPerSecond, this.limits.VIDEO_MAX_FRAMES),
          threshold: options.threshold ?? null,
          maxResults: options.maxResults ?? null,
        },
        metadata,
      }),
    });
    return findVideoPrediction(this.readStore, deployment.id, videoPredictionId);
  }
}
