import { Injectable } from '@nestjs/common';
import type { DomainEvent } from '@diyml/core/pure';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore } from '@diyml/read-store/pure';
import type { ImageRemoved, ImageUploaded } from '../../domain/image.events.js';
import type { VideoEvent } from '../../slices/upload-video/video.events.js';

export const IMAGE_COUNTS = 'image-counts';

/**
 * How many images a project (id `project:<id>`) or a user across their projects (id `user:<id>`) holds, and how many
 * frames are still to come from their videos being extracted: what the image quotas check, in two reads.
 */
export interface ImageCountView {
  id: string;
  images: number;
  frames: number;
  /** Projects: their owner. */
  ownerId?: string;
  /** Projects: their videos being extracted, by id. */
  extracting?: Record<string, { frameCount: number; framesDone: number }>;
}

type ProjectCreated = DomainEvent<'ProjectCreated', { projectId: string; ownerId: string }>;
type ProjectDeleted = DomainEvent<'ProjectDeleted', { projectId: string }>;
type CountedEvent = ProjectCreated | ProjectDeleted | ImageUploaded | ImageRemoved | VideoEvent;

export const projectCountId = (projectId: string): string => `project:${projectId}`;
export const userCountId = (ownerId: string): string => `user:${ownerId}`;

const empty = (id: string): ImageCountView => ({ id, images: 0, frames: 0 });

/**
 * Image counts per project and per user. Each event changes the user's document first, by the difference it makes to
 * the project's document as it was before, then the project's: a replay after a crash between the two skips the one
 * already applied (documents remember the position of their last event), so no count moves twice.
 */
@ReadModelProjection()
@Injectable()
export class ImageCountsProjection implements Projection<CountedEvent> {
  readonly name = 'image-counts';
  readonly version = 1;
  readonly collections = [IMAGE_COUNTS];
  readonly eventTypes = [
    'ProjectCreated',
    'ProjectDeleted',
    'ImageUploaded',
    'ImageRemoved',
    'VideoUploaded',
    'VideoFramesProgressed',
    'VideoFramesExtracted',
    'VideoFrameExtractionFailed',
  ] as const;

  async apply(event: Recorded<CountedEvent>, store: ReadStore): Promise<void> {
    const counts = store.collection<ImageCountView>(IMAGE_COUNTS);
    const id = projectCountId(event.data.projectId);
    if (event.type === 'ProjectCreated') {
      const { ownerId } = event.data;
      await counts.apply(id, event.position, (current) => current ?? { ...empty(id), ownerId, extracting: {} });
      return;
    }
    const project = await counts.get(id);
    if (!project?.ownerId) return;
    const next = this.next(event, project);
    const images = next ? next.images - project.images : -project.images;
    const frames = next ? next.frames - project.frames : -project.frames;
    if (images !== 0 || frames !== 0) {
      const userId = userCountId(project.ownerId);
      await counts.apply(userId, event.position, (current) => {
        const user = current ?? empty(userId);
        return { ...user, images: user.images + images, frames: user.frames + frames };
      });
    }
    await counts.apply(id, event.position, () => next);
  }

  /** The project's counts after the event (null: the project is gone). */
  private next(
    event: Exclude<Recorded<CountedEvent>, Recorded<ProjectCreated>>,
    project: ImageCountView,
  ): ImageCountView | null {
    const extracting = (videoId: string, video: { frameCount: number; framesDone: number } | null) => {
      const videos = { ...project.extracting };
      if (video) videos[videoId] = video;
      else delete videos[videoId];
      const frames = Object.values(videos).reduce(
        (sum, { frameCount, framesDone }) => sum + Math.max(0, frameCount - framesDone),
        0,
      );
      return { ...project, extracting: videos, frames };
    };
    switch (event.type) {
      case 'ProjectDeleted':
        return null;
      case 'ImageUploaded':
        return { ...project, images: project.images + 1 };
      case 'ImageRemoved':
        return { ...project, images: Math.max(0, project.images - 1) };
      case 'VideoUploaded':
        return extracting(event.data.videoId, { frameCount: event.data.frameCount, framesDone: 0 });
      case 'VideoFramesProgressed': {
        const video = project.extracting?.[event.data.videoId];
        return video ? extracting(event.data.videoId, { ...video, framesDone: event.data.framesDone }) : project;
      }
      case 'VideoFramesExtracted':
      case 'VideoFrameExtractionFailed':
        return extracting(event.data.videoId, null);
    }
  }
}
