import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable, Logger } from '@nestjs/common';
import { Settings } from '@diyml/core';
import { DomainError } from '@diyml/core/pure';
import { ReadStore } from '@diyml/read-store';
import {
  IMAGE_COUNTS,
  type ImageCountView,
  projectCountId,
  userCountId,
} from '../read-models/image-counts/image-counts.projection.js';
import { type InFlight, QuotaReservations } from './quota-reservations/quota-reservations.port.js';

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

/** The reservation the current request holds, so the steps inside it (a batch's uploads) are not counted twice. */
const held = new AsyncLocalStorage<ImageDestination>();

/**
 * How long the reservation of a request lasts unless renewed: renewed every third of it while the request runs, it
 * lapses this long after its process died (a killed replica), freeing the room it held.
 */
export const QUOTA_RESERVATION_TTL_MS = 15_000;

/**
 * The image quotas (MAX_IMAGES_PER_PROJECT, MAX_IMAGES_PER_USER), checked before a request takes any image in, so
 * no account grows the read models (held in memory by the embedded api) without end. Counts come from the image-counts
 * read model (one document for the project, one for the user: two reads, whatever the number of projects), which
 * includes frames still to come from videos, plus the images reserved by requests taking images in right now
 * (QuotaReservations: in this process in the embedded mode, in Redis or PostgreSQL when the replicas share them).
 * A user's checks run one at a time, across replicas on a shared store, each reserving its images before the next
 * one reads, so concurrent requests of one user cannot pass the limits together.
 */
@Injectable()
export class ImageQuota {
  private readonly logger = new Logger(ImageQuota.name);

  constructor(
    private readonly readStore: ReadStore,
    private readonly settings: Settings,
    private readonly reservations: QuotaReservations,
  ) {}

  /**
   * Runs `work`, which takes in at most `adding` images, when they fit in both quotas; 422 IMAGE_QUOTA_EXCEEDED
   * before it otherwise. The images stay reserved until `work` is over (by then they are in the read model: the
   * intake waits for it). Inside the `work` of a reservation for the same destination (a Custom Vision batch
   * uploading its groups), the images were reserved already: `work` runs at once.
   */
  async hold<T>(destination: ImageDestination, adding: number, work: () => Promise<T>): Promise<T> {
    const outer = held.getStore();
    if (outer && outer.ownerId === destination.ownerId && outer.projectId === destination.projectId) return work();
    const reservation = await this.reservations.reserve(
      destination.ownerId,
      keysOf(destination),
      adding,
      QUOTA_RESERVATION_TTL_MS,
      (inFlight) => this.assertRoom(destination, adding, inFlight),
    );
    const renewal = setInterval(() => {
      reservation.renew().then(
        (renewed) => {
          if (!renewed)
            this.logger.warn(`An image reservation of ${destination.ownerId} lapsed before its request ended`);
        },
        (error: unknown) => this.logger.warn(`Renewing an image reservation failed: ${String(error)}`),
      );
    }, QUOTA_RESERVATION_TTL_MS / 3).unref();
    try {
      return await held.run(destination, work);
    } finally {
      clearInterval(renewal);
      // Not given back (the store does not answer): it lapses with its ttl.
      await reservation
        .release()
        .catch((error: unknown) => this.logger.warn(`Giving back an image reservation failed: ${String(error)}`));
    }
  }

  /**
   * 422 IMAGE_QUOTA_EXCEEDED when `adding` more images would not fit in the project's or the user's quota (a check
   * alone: use `hold` to reserve them).
   */
  async assertRoom(destination: ImageDestination, adding: number, inFlight: InFlight = new Map()): Promise<void> {
    const counts = this.readStore.collection<ImageCountView>(IMAGE_COUNTS);
    const [project, user] = await Promise.all([
      destination.projectId === null ? undefined : counts.get(projectCountId(destination.projectId)),
      counts.get(userCountId(destination.ownerId)),
    ]);
    // A project an import is about to create starts empty.
    if (destination.projectId === null) this.refuseBeyond('project', 0, adding, this.settings.MAX_IMAGES_PER_PROJECT);
    else {
      const holding =
        (project ? project.images + project.frames : 0) + (inFlight.get(projectKey(destination.projectId)) ?? 0);
      this.refuseBeyond('project', holding, adding, this.settings.MAX_IMAGES_PER_PROJECT);
    }
    const holding = (user ? user.images + user.frames : 0) + (inFlight.get(userKey(destination.ownerId)) ?? 0);
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

const userKey = (ownerId: string) => `user:${ownerId}`;
const projectKey = (projectId: string) => `project:${projectId}`;

function keysOf({ projectId, ownerId }: ImageDestination): string[] {
  return [userKey(ownerId), ...(projectId === null ? [] : [projectKey(projectId)])];
}
