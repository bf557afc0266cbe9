import { beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Settings } from '@diyml/core';
import { isDomainError } from '@diyml/core/pure';
import type { RecordedEvent } from '@diyml/event-store';
import { InMemoryReadStore, type ReadModelCollection } from '@diyml/read-store/pure';
import {
  IMAGE_COUNTS,
  type ImageCountView,
  ImageCountsProjection,
  userCountId,
} from '../read-models/image-counts/image-counts.projection.js';
import { ImageQuota } from './image-quota.js';
import { InProcessQuotaReservations } from './quota-reservations/in-process-quota-reservations.js';

const metadata = { userId: 'u1', correlationId: 'c1', causationId: null, at: '2026-02-01T12:00:00.000Z' };

/** The in-memory read store, counting the reads its collections answer. */
class CountingReadStore extends InMemoryReadStore {
  reads = 0;

  override collection<T extends { id: string }>(name: string): ReadModelCollection<T> {
    const inner = super.collection<T>(name);
    const count =
      <A extends unknown[], R>(read: (...args: A) => Promise<R>) =>
      (...args: A) => {
        this.reads += 1;
        return read(...args);
      };
    return {
      ...inner,
      apply: inner.apply.bind(inner),
      clear: inner.clear.bind(inner),
      get: count(inner.get.bind(inner)),
      find: count(inner.find.bind(inner)),
      findAll: count(inner.findAll.bind(inner)),
      count: count(inner.count.bind(inner)),
    };
  }
}

describe('image counts and the image quota', () => {
  let store: CountingReadStore;
  let position: number;
  const projection = new ImageCountsProjection();

  const event = (type: string, data: Record<string, unknown>): RecordedEvent => ({
    id: randomUUID(),
    streamId: `s-${randomUUID()}`,
    revision: 0,
    position: ++position,
    type,
    v: 1,
    data,
    metadata,
  });
  const apply = (recorded: RecordedEvent) => projection.apply(recorded as never, store);
  const counts = (id: string) => store.collection<ImageCountView>(IMAGE_COUNTS).get(id);

  beforeEach(() => {
    store = new CountingReadStore();
    position = 0;
  });

  it('counts images and frames to come per project and per user; a repeated event changes nothing', async () => {
    await apply(event('ProjectCreated', { projectId: 'p1', ownerId: 'u1' }));
    await apply(event('ProjectCreated', { projectId: 'p2', ownerId: 'u1' }));
    const first = event('ImageUploaded', { projectId: 'p1', imageId: 'i1' });
    await apply(first);
    await apply(first);
    await apply(event('ImageUploaded', { projectId: 'p2', imageId: 'i2' }));
    await apply(event('VideoUploaded', { projectId: 'p2', videoId: 'v1', frameCount: 10 }));
    await apply(event('VideoFramesProgressed', { projectId: 'p2', videoId: 'v1', framesDone: 4 }));
    expect(await counts(userCountId('u1'))).toMatchObject({ images: 2, frames: 6 });
    expect(await counts('project:p2')).toMatchObject({ images: 1, frames: 6 });

    await apply(event('VideoFramesExtracted', { projectId: 'p2', videoId: 'v1', framesDone: 10 }));
    await apply(event('ImageRemoved', { projectId: 'p1', imageId: 'i1' }));
    expect(await counts(userCountId('u1'))).toMatchObject({ images: 1, frames: 0 });

    await apply(event('ProjectDeleted', { projectId: 'p2' }));
    expect(await counts('project:p2')).toBeUndefined();
    expect(await counts(userCountId('u1'))).toMatchObject({ images: 0, frames: 0 });
  });

  it('checks a user with 100 projects in two reads, and refuses past the user quota saying how many are left', async () => {
    for (let project = 0; project < 100; project++) {
      await apply(event('ProjectCreated', { projectId: `p${project}`, ownerId: 'u1' }));
      await apply(event('ImageUploaded', { projectId: `p${project}`, imageId: `i${project}` }));
    }
    const settings = Object.assign(new Settings(), { MAX_IMAGES_PER_PROJECT: 10, MAX_IMAGES_PER_USER: 103 });
    const quota = new ImageQuota(store, settings, new InProcessQuotaReservations());

    store.reads = 0;
    await quota.hold({ projectId: 'p7', ownerId: 'u1' }, 3, async () => undefined);
    expect(store.reads).toBe(2);

    const refused = await quota
      .hold({ projectId: 'p7', ownerId: 'u1' }, 4, async () => undefined)
      .catch((error: unknown) => error);
    expect(isDomainError(refused, 'IMAGE_QUOTA_EXCEEDED') && refused.details).toMatchObject({
      scope: 'user',
      images: 100,
      left: 3,
      adding: 4,
    });
  });

  it('lets concurrent reservations of one user take exactly the room left', async () => {
    await apply(event('ProjectCreated', { projectId: 'p1', ownerId: 'u1' }));
    const settings = Object.assign(new Settings(), { MAX_IMAGES_PER_PROJECT: 5, MAX_IMAGES_PER_USER: 100 });
    const quota = new ImageQuota(store, settings, new InProcessQuotaReservations());
    let release!: () => void;
    const working = new Promise<void>((resolve) => (release = resolve));
    const outcomes = Array.from({ length: 12 }, () =>
      quota
        .hold({ projectId: 'p1', ownerId: 'u1' }, 1, () => working)
        .then(
          () => 'taken',
          (error: unknown) => (isDomainError(error, 'IMAGE_QUOTA_EXCEEDED') ? 'refused' : error),
        ),
    );
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const settled = await Promise.all(outcomes);
    expect(settled.filter((outcome) => outcome === 'taken')).toHaveLength(5);
    expect(settled.filter((outcome) => outcome === 'refused')).toHaveLength(7);
  });
});
