import { Injectable } from '@nestjs/common';
import { Settings } from '@diyml/core';
import { DomainError } from '@diyml/core/pure';
import { PROJECTS, type ProjectView } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { IMAGES, type ImageView } from '../read-models/images/image.view.js';
import { VIDEOS, type VideoView } from '../slices/upload-video/videos.projection.js';

export const IMAGE_QUOTA_EXCEEDED = 'IMAGE_QUOTA_EXCEEDED';

/** Where new images go: a project (null for one an import is about to create) and the user who owns it. */
export interface ImageDestination {
  projectId: string | null;
  ownerId: string;
}

/** What the OpenAPI descriptions of the routes that add images say about the quota. */
export const IMAGE_QUOTA_DESCRIPTION =
  'A project holds at most MAX_IMAGES_PER_PROJECT images (default 100,000) and a user at most MAX_IMAGES_PER_USER ' +
  'across their projects (default 100,000): a request that would go past either takes nothing and answers 422 ' +
  'IMAGE_QUOTA_EXCEEDED, saying how many images can still be added (details.left). Every file sent counts, ' +
  'duplicates included; frames still to come from videos being extracted count as images.';

/**
 * Images that requests of this process are taking in (not in the read models yet), by `project:<id>` and
 * `user:<id>`: one count for the process, whichever module's ImageQuota (datasets, deployments, Custom Vision) holds it.
 */
const inFlight = new Map<string, number>();

/**
 * The image quotas (MAX_IMAGES_PER_PROJECT, MAX_IMAGES_PER_USER), checked before a request takes any image in, so
 * no account grows the read models (held in memory by the embedded api) without end. Counts come from the images
 * read model (its index by project) plus frames still to come from videos, plus the images that requests of this
 * process are taking in right now (not in the read model yet), so concurrent uploads of one user cannot pass the
 * limit together here; across api replicas they can, by at most what they add at once.
 */
@Injectable()
export class ImageQuota {
  constructor(
    private readonly readStore: ReadStore,
    private readonly settings: Settings,
  ) {}

  /**
   * Runs `work`, which takes in at most `adding` images, when they fit in both quotas; 422 IMAGE_QUOTA_EXCEEDED
   * before it otherwise. The images stay counted as in flight until `work` is over (by then they are in the read
   * model: the intake waits for it).
   */
  async hold<T>(destination: ImageDestination, adding: number, work: () => Promise<T>): Promise<T> {
    const keys = keysOf(destination);
    // Counted before the read model is asked, so a request checked at the same time sees these too.
    for (const key of keys) inFlight.set(key, (inFlight.get(key) ?? 0) + adding);
    try {
      await this.assertRoom(destination, adding, { alreadyInFlight: true });
      return await work();
    } finally {
      for (const key of keys) {
        const left = (inFlight.get(key) ?? 0) - adding;
        if (left > 0) inFlight.set(key, left);
        else inFlight.delete(key);
      }
    }
  }

  /** 422 IMAGE_QUOTA_EXCEEDED when `adding` more images would not fit in the project's or the user's quota. */
  async assertRoom(
    destination: ImageDestination,
    adding: number,
    { alreadyInFlight = false }: { alreadyInFlight?: boolean } = {},
  ): Promise<void> {
    const own = alreadyInFlight ? adding : 0;
    // A project an import is about to create starts empty.
    if (destination.projectId === null) this.refuseBeyond('project', 0, adding, this.settings.MAX_IMAGES_PER_PROJECT);
    else {
      const held =
        (await this.imagesOf(destination.projectId)) + (inFlight.get(`project:${destination.projectId}`) ?? 0);
      this.refuseBeyond('project', held - own, adding, this.settings.MAX_IMAGES_PER_PROJECT);
    }
    const projects = await this.readStore.collection<ProjectView>(PROJECTS).findAll({ ownerId: destination.ownerId });
    const stored = await Promise.all(projects.map((project) => this.imagesOf(project.id)));
    const held = stored.reduce((sum, count) => sum + count, 0) + (inFlight.get(`user:${destination.ownerId}`) ?? 0);
    this.refuseBeyond('user', held - own, adding, this.settings.MAX_IMAGES_PER_USER);
  }

  /** The project's images, with the frames still to come from its videos being extracted. */
  private async imagesOf(projectId: string): Promise<number> {
    const [images, extracting] = await Promise.all([
      this.readStore.collection<ImageView>(IMAGES).count({ projectId }),
      this.readStore.collection<VideoView>(VIDEOS).findAll({ projectId, status: 'extracting' }),
    ]);
    return extracting.reduce(
      (sum, video) => sum + Math.max(0, video.progress.frameCount - video.progress.framesDone),
      images,
    );
  }

  private refuseBeyond(scope: 'project' | 'user', held: number, adding: number, limit: number): void {
    if (held + adding <= limit) return;
    const left = Math.max(0, limit - held);
    const setting = scope === 'project' ? 'MAX_IMAGES_PER_PROJECT' : 'MAX_IMAGES_PER_USER';
    const holder = scope === 'project' ? 'This project holds' : 'Your projects hold';
    throw DomainError.unprocessable(
      IMAGE_QUOTA_EXCEEDED,
      `${holder} ${held} of the ${limit} images allowed (${setting}): ${left} more can be added, this request ` +
        `adds ${adding}. Nothing was taken: send fewer images, or remove some first.`,
      { scope, limit, images: held, left, adding },
    );
  }
}

function keysOf({ projectId, ownerId }: ImageDestination): string[] {
  return [`user:${ownerId}`, ...(projectId === null ? [] : [`project:${projectId}`])];
}
