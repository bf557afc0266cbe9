import { Injectable } from '@nestjs/common';
import { BlobStore } from '@diyml/blobs';
import { type CommandMetadata, isDomainError } from '@diyml/core/pure';
import { CommandPipeline, EventStore, loadStream, type Recorded, readStreamOf } from '@diyml/event-store';
import { type JobProcessor, JobProcessorProvider, JobQueue, onBehalfOf } from '@diyml/jobs';
import { EventReactor, type Reactor } from '@diyml/read-store';
import { ImageIntake } from '../../upload/image-intake.js';
import { type VideoCommand, videoDecider } from './video.decider.js';
import { type FrameCounts, type VideoEvent, type VideoUploaded, videoStream } from './video.events.js';
import { extractFrames } from './video-frames.js';

export const VIDEO_FRAMES_QUEUE = 'video-frames';

export interface VideoFramesJobPayload {
  v: 1;
  videoId: string;
}

/** Frames recorded together, progress recorded after each batch: at least 4 frames, at most 20 batches. */
const batchSizeFor = (frames: number) => Math.max(4, Math.ceil(frames / 20));

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Turns VideoUploaded into a job; the job id is the video id, so seeing the event again never extracts twice. */
@EventReactor()
@Injectable()
export class VideoFramesJobReactor implements Reactor<VideoUploaded> {
  readonly name = 'video-frames-job-reactor';
  readonly eventTypes = ['VideoUploaded'] as const;

  constructor(private readonly jobs: JobQueue) {}

  async react(recorded: Recorded<VideoUploaded>): Promise<void> {
    const { videoId } = recorded.data;
    const payload: VideoFramesJobPayload = { v: 1, videoId };
    await this.jobs.enqueue({ queue: VIDEO_FRAMES_QUEUE, id: videoId, payload });
  }
}

/**
 * Extracts a video's frames at its chosen rate (ffmpeg, a child process) and takes each in as an image of the
 * project like an upload: checked, stored, recorded as ImageUploaded with the video and timestamp as its
 * source; a frame whose bytes the project already holds is a skipped duplicate. Progress is recorded per batch;
 * a finished extraction is left alone, and a retried one finds its earlier frames as duplicates.
 */
@JobProcessorProvider()
@Injectable()
export class VideoFramesJobProcessor implements JobProcessor<VideoFramesJobPayload> {
  readonly queue = VIDEO_FRAMES_QUEUE;

  constructor(
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly blobs: BlobStore,
    private readonly intake: ImageIntake,
  ) {}

  async process({ videoId }: VideoFramesJobPayload): Promise<void> {
    const stream = videoStream(videoId);
    const [uploaded] = await readStreamOf<VideoEvent>(this.events, stream);
    const { state } = await loadStream(this.events, stream, videoDecider);
    if (state.status !== 'extracting' || uploaded?.type !== 'VideoUploaded') return;
    const video = uploaded.data;
    const metadata = onBehalfOf(uploaded);
    const frames = await extractFrames(
      (await this.blobs.getStream(video.sha256)).stream,
      video.framesPerSecond,
      video.frameCount,
    );
    const project = {
      id: video.projectId,
      type: video.projectType,
      labels: video.labelId ? [{ id: video.labelId }] : [],
    };
    const stem = video.filename.replace(/\.[^.]*$/, '') || 'video';
    const counts: FrameCounts = { framesDone: 0, created: 0, duplicates: 0, rejected: 0 };
    const batchSize = batchSizeFor(frames.length);
    for (let start = 0; start < frames.length; start += batchSize) {
      const batch = frames.slice(start, start + batchSize);
      const items = await this.intake.intake(
        project,
        batch.map((frame) => ({
          filename: `${stem}-${String(frame.timestampMs).padStart(8, '0')}ms.png`,
          bytes: frame.png,
          labelId: video.labelId,
          split: video.split,
          source: { kind: 'video' as const, videoId, timestampMs: frame.timestampMs },
        })),
        metadata,
      );
      counts.framesDone += batch.length;
      for (const item of items) {
        if (item.status === 'created') counts.created += 1;
        else if (item.status === 'duplicate') counts.duplicates += 1;
        else counts.rejected += 1;
      }
      if (counts.framesDone < frames.length)
        await this.decide(stream, { type: 'RecordFrameProgress', counts: { ...counts } }, metadata);
    }
    await this.decide(stream, { type: 'CompleteFrameExtraction', counts }, metadata);
  }

  async failed({ videoId }: VideoFramesJobPayload, error: Error): Promise<void> {
    const stream = videoStream(videoId);
    const [uploaded] = await this.events.readStream(stream);
    const code = isDomainError(error) ? error.code : 'VIDEO_FRAME_EXTRACTION_FAILED';
    await this.decide(stream, { type: 'FailFrameExtraction', code, reason: error.message }, onBehalfOf(uploaded));
  }

  private decide(
    stream: string,
    command: DistributiveOmit<VideoCommand, 'metadata'>,
    metadata: Omit<CommandMetadata, 'now'>,
  ) {
    return this.pipeline.on(stream, videoDecider).run({
      context: metadata,
      command: (_, full) => ({ ...command, metadata: full }) as VideoCommand,
      waitForReadModels: false,
    });
  }
}
