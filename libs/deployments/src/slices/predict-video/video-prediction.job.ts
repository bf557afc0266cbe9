import { Injectable } from '@nestjs/common';
import { BlobStore } from '@diyml/blobs';
import { type CommandMetadata, isDomainError } from '@diyml/core/pure';
import { extractFrames } from '@diyml/datasets';
import { CommandPipeline, EventStore, loadStream, type Recorded, readStreamOf } from '@diyml/event-store';
import { type JobProcessor, JobProcessorProvider, JobQueue, onBehalfOf } from '@diyml/jobs';
import { EventReactor, type Reactor } from '@diyml/read-store';
import { VideoModelThread } from './video-model-thread.js';
import { type VideoPredictionCommand, videoPredictionDecider } from './video-prediction.decider.js';
import {
  type VideoPredictionEvent,
  type VideoPredictionRequested,
  videoPredictionStream,
} from './video-prediction.events.js';

export const VIDEO_PREDICTION_QUEUE = 'video-predictions';

export interface VideoPredictionJobPayload {
  v: 1;
  videoPredictionId: string;
}

/** What a completed video prediction answers, one entry per frame in time order (stored as a JSON blob). */
export interface VideoPredictionResults {
  frames: {
    timestampMs: number;
    predictions: {
      label: string;
      probability: number;
      box?: { x: number; y: number; width: number; height: number };
    }[];
  }[];
}

/** Frames predicted per chunk, progress recorded after each: at least 32, at most 10 chunks. */
const chunkSizeFor = (frames: number) => Math.max(32, Math.ceil(frames / 10));

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Turns VideoPredictionRequested into a job; the job id is the prediction id, so it runs once. */
@EventReactor()
@Injectable()
export class VideoPredictionJobReactor implements Reactor<VideoPredictionRequested> {
  readonly name = 'video-prediction-job-reactor';
  readonly eventTypes = ['VideoPredictionRequested'] as const;

  constructor(private readonly jobs: JobQueue) {}

  async react(recorded: Recorded<VideoPredictionRequested>): Promise<void> {
    const { videoPredictionId } = recorded.data;
    const payload: VideoPredictionJobPayload = { v: 1, videoPredictionId };
    await this.jobs.enqueue({ queue: VIDEO_PREDICTION_QUEUE, id: videoPredictionId, payload });
  }
}

/**
 * Predicts every frame of a video (taken at its rate by ffmpeg, a child process) with the deployed model on a
 * worker thread that loads it once, chunk by chunk with progress recorded after each, then stores the per-frame predictions as a
 * JSON blob and records VideoPredictionCompleted (or VideoPredictionFailed). A finished one is left alone.
 */
@JobProcessorProvider()
@Injectable()
export class VideoPredictionJobProcessor implements JobProcessor<VideoPredictionJobPayload> {
  readonly queue = VIDEO_PREDICTION_QUEUE;

  constructor(
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly blobs: BlobStore,
  ) {}

  async process({ videoPredictionId }: VideoPredictionJobPayload): Promise<void> {
    const stream = videoPredictionStream(videoPredictionId);
    const [requested] = await readStreamOf<VideoPredictionEvent>(this.events, stream);
    const { state } = await loadStream(this.events, stream, videoPredictionDecider);
    if (state.status !== 'running' || requested?.type !== 'VideoPredictionRequested') return;
    const spec = requested.data;
    const metadata = onBehalfOf(requested);
    const frames = await extractFrames(
      (await this.blobs.getStream(spec.videoSha256)).stream,
      spec.framesPerSecond,
      spec.frameCount,
    );
    const modelZip = new Uint8Array(await this.blobs.get(spec.modelSha256));
    const options = {
      ...(spec.threshold === null ? {} : { threshold: spec.threshold }),
      ...(spec.maxResults === null ? {} : { maxResults: spec.maxResults }),
    };
    const results: VideoPredictionResults = { frames: [] };
    const chunkSize = chunkSizeFor(frames.length);
    // One thread and one model load for the whole video, however many chunks.
    const thread = await VideoModelThread.open(modelZip);
    try {
      for (let start = 0; start < frames.length; start += chunkSize) {
        const chunk = frames.slice(start, start + chunkSize);
        const predictions = await thread.predict(
          chunk.map((frame) => new Uint8Array(frame.png)),
          options,
        );
        chunk.forEach((frame, index) =>
          results.frames.push({
            timestampMs: frame.timestampMs,
            predictions: predictions[index].map(({ labelIndex, label, probability, box }) => ({
              label: spec.labels[labelIndex] ?? label,
              probability,
              ...(box ? { box } : {}),
            })),
          }),
        );
        if (results.frames.length < frames.length) {
          await this.decide(
            stream,
            { type: 'RecordVideoPredictionProgress', framesDone: results.frames.length },
            metadata,
          );
        }
      }
    } finally {
      await thread.close();
    }
    const stored = await this.blobs.put(new TextEncoder().encode(JSON.stringify(results)));
    await this.decide(
      stream,
      { type: 'CompleteVideoPrediction', framesDone: results.frames.length, resultsSha256: stored.sha256 },
      metadata,
    );
  }

  async failed({ videoPredictionId }: VideoPredictionJobPayload, error: Error): Promise<void> {
    const stream = videoPredictionStream(videoPredictionId);
    const [requested] = await this.events.readStream(stream);
    const code = isDomainError(error) ? error.code : 'VIDEO_PREDICTION_FAILED';
    await this.decide(stream, { type: 'FailVideoPrediction', code, reason: error.message }, onBehalfOf(requested));
  }

  private decide(
    stream: string,
    command: DistributiveOmit<VideoPredictionCommand, 'metadata'>,
    metadata: Omit<CommandMetadata, 'now'>,
  ) {
    return this.pipeline.on(stream, videoPredictionDecider).run({
      context: metadata,
      command: (_, full) => ({ ...command, metadata: full }) as VideoPredictionCommand,
      waitForReadModels: false,
    });
  }
}
