import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { Settings } from '@diyml/core';
import { DomainError } from '@diyml/core/pure';
import { ReadStore } from '@diyml/read-store';
import {
  IMAGE_COUNTS,
  type ImageCountView,
  projectCountId,
  userCountId,
} from '../read-models/image-counts/image-counts.projection.js';

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

/** The check-and-reserve of each user, one at a time in this process: a promise chain by user id. */
const reserving = new Map<string, Promise<unknown>>();

/** The reservation the current request holds, so the steps inside it (a batch's uploads) are not counted twice. */
const held = new AsyncLocalStorage<ImageDestination>();

/**
 * The image quotas (MAX_IMAGES_PER_PROJECT, MAX_IMAGES_PER_USER), checked before a request takes any image in, so
 * no account grows the read models (held in memory by the embedded api) without end. Counts come from the image-counts
 * read model (one document for the project, one for the user: two reads, whatever the number of projects), which
 * includes frames still to come from videos, plus the images that requests of this process are taking in right now.
 * A user's checks run one at a time in this process, each reserving its images before the next one reads, so
 * concurrent requests of one user cannot pass the limits together here; across api replicas they can, by at most
 * what they add at once.
 */
@Injectable()
export class ImageQuota {
  constructor(
    private readonly readStore: ReadStore,
    private readonly settings: Settings,
  ) {}

  /**
   * Runs `work`, which takes in at most `adding` images, when they fit in both quotas; 422 IMAGE_QUOTA_EXCEEDED
   * before it otherwise. The images stay reserved (counted as in flight) until `work` is over (by then they are in
   * the read model: the intake waits for it). Inside the `work` of a reservation for the same destination (a Custom
   * Vision batch uploading its groups), the images were reserved already: `work` runs at once.
   */
  async hold<T>(destination: ImageDestination, adding: number, work: () => Promise<T>): Promise<T> {
    const outer = held.getStore();
    if (outer && outer.ownerId === destination.ownerId && outer.projectId === destination.projectId) return work();
    const keys = keysOf(destination);
    await this.reserve(destination, adding, keys);
    try {
      return await held.run(destination, work);
    } finally {
      for (const key of keys) {
        const left = (inFlight.get(key) ?? 0) - adding;
        if (left > 0) inFlight.set(key, left);
        else inFlight.delete(key);
      }
    }
  }

  /** Checks the room (one check of this user at a time) and counts the images as in flight when they fit. */
  private async reserve(destination: ImageDestination, adding: number, keys: string[]): Promise<void> {
    const before = reserving.get(destination.ownerId) ?? Promise.resolve();
    const turn = before.then(async () => {
      await this.assertRoom(destination, adding);
      for (const key of keys) inFlight.set(key, (inFlight.get(key) ?? 0) + adding);
    });
    const settled = turn.catch(() => undefined);
    reserving.set(destination.ownerId, settled);
    try {
      await turn;
    } finally {
      if (reserving.get(destination.ownerId) === settled) reserving.delete(destination.ownerId);
    }
  }

  /**
   * 422 IMAGE_QUOTA_EXCEEDED when `adding` more images would not fit in the project's or the user's quota (a check
   * alone: use `hold` to reserve them).
   */
  async assertRoom(destination: ImageDestination, adding: number): Promise<void> {
    const counts = this.readStore.collection<ImageCountView>(IMAGE_COUNTS);
    const [project, user] = await Promise.all([
      destination.projectId === null ? undefined : counts.get(projectCountId(destination.projectId)),
      counts.get(userCountId(destination.ownerId)),
    ]);
    // A project an import is about to create starts empty.
    if (destination.projectId === null) this.refuseBeyond('project', 0, adding, this.settings.MAX_IMAGES_PER_PROJECT);
    else {
      const holding =
        (project ? project.images + project.frames : 0) + (inFlight.get(`project:${destination.projectId}`) ?? 0);
      this.refuseBeyond('project', holding, adding, this.settings.MAX_IMAGES_PER_PROJECT);
    }
    const holding = (user ? user.images + user.frames : 0) + (inFlight.get(`user:${destination.ownerId}`) ?? 0);
    this.refuseBeyond('user', holding, adding, this.settings.MAX_IMAGES_PER_USER);
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
