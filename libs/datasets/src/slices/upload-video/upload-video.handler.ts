import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { createReadStream } from 'node:fs';
import { BlobStore } from '@diyml/blobs';
import { DomainError, IdGenerator } from '@diyml/core/pure';
import { CommandPipeline } from '@diyml/event-store';
import { ProjectAccess } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { DatasetErrors } from '../../domain/dataset-errors.js';
import type { Split } from '../../domain/image.events.js';
import { resolveLabel } from '../../domain/label-reference.js';
import { ImageIntake } from '../../upload/image-intake.js';
import type { UploadedFile } from '../../upload/temporary-files.js';
import { UploadLimits } from '../../upload/upload-limits.js';
import type { UserContext } from '../image-writer.js';
import { videoDecider } from './video.decider.js';
import { videoStream } from './video.events.js';
import { frameCountOf, inspectVideo, receivedVideo, VideoErrors } from './video-frames.js';
import { VIDEOS, type VideoView } from './videos.projection.js';

export class UploadVideo extends Command<VideoView> {
  constructor(
    readonly projectId: string,
    /** The video, in a temporary file the request removes when it is over. */
    readonly file: UploadedFile | undefined,
    readonly options: { framesPerSecond: number; label?: string; split?: Split },
    readonly context: UserContext,
  ) {
    super();
  }
}

/** The video of a project, or 404 VIDEO_NOT_FOUND (also for another project's video). */
export async function findVideo(readStore: ReadStore, projectId: string, videoId: string): Promise<VideoView> {
  const video = await readStore.collection<VideoView>(VIDEOS).get(videoId);
  if (!video || video.projectId !== projectId)
    throw DomainError.notFound(VideoErrors.VIDEO_NOT_FOUND, `Video ${videoId} does not exist in this project.`);
  return video;
}

/**
 * Checks a video (size, container, first frame decodes) before anything is kept, stores it as a blob and
 * appends VideoUploaded; a reactor queues the job that extracts its frames into the project's images.
 */
@CommandHandler(UploadVideo)
export class UploadVideoHandler implements ICommandHandler<UploadVideo> {
  constructor(
    private readonly access: ProjectAccess,
    private readonly limits: UploadLimits,
    private readonly blobs: BlobStore,
    private readonly pipeline: CommandPipeline,
    private readonly readStore: ReadStore,
    private readonly ids: IdGenerator,
    private readonly intake: ImageIntake,
  ) {}

  async execute({ projectId, file, options, context }: UploadVideo): Promise<VideoView> {
    const project = await this.access.getOwned(projectId, context.userId);
    const { path, filename } = receivedVideo(file, this.limits.VIDEO_MAX_BYTES);
    let labelId: string | null = null;
    if (options.label !== undefined) {
      if (project.type === 'detection') {
        throw DomainError.validation(
          DatasetErrors.WRONG_PROJECT_TYPE,
          'A label for whole frames belongs to classification and multilabel projects; label detection frames with regions.',
        );
      }
      labelId = resolveLabel(project.labels, options.label).id;
    }
    const info = await inspectVideo(path);
    const frameCount = frameCountOf(info.durationMs, options.framesPerSecond, this.limits.VIDEO_MAX_FRAMES);
    // Checked here, where the read models are: the job that takes the frames in (on a worker) has none. Its frames
    // count as images while it extracts them (the videos read model), so later requests see them.
    return this.intake.withRoom({ projectId, ownerId: project.ownerId }, frameCount, async () => {
      const stored = await this.blobs.putStream(createReadStream(path));
      const videoId = this.ids.newId();
      await this.pipeline.on(videoStream(videoId), videoDecider).run({
        context,
        command: (_, metadata) => ({
          type: 'UploadVideo',
          projectId,
          projectType: project.type,
          videoId,
          spec: {
            filename: filename.slice(0, 500),
            sha256: stored.sha256,
            bytes: stored.bytes,
            ...info,
            framesPerSecond: options.framesPerSecond,
            frameCount,
            labelId,
            split: options.split ?? 'train',
          },
          metadata,
        }),
      });
      return findVideo(this.readStore, projectId, videoId);
    });
  }
}
