import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopSlices } from '@diyml/core/pure';
import { SqliteEventStore } from '@diyml/event-store';
import type { ProjectHistoryEntry } from '@diyml/projects';
import { WholeProjectReads } from './whole-project-reads.js';

/** The real embedded store, counting the streams it is asked for. */
class CountingEventStore extends SqliteEventStore {
  streamsRead = 0;

  override async readStream(streamId: string) {
    this.streamsRead += 1;
    return super.readStream(streamId);
  }
}

const metadata = { userId: 'u1', correlationId: 'c1', causationId: null, at: '2026-12-01T00:00:00.000Z' };

describe('WholeProjectReads', () => {
  const store = new CountingEventStore({ filename: ':memory:' });
  const history: ProjectHistoryEntry[] = [];
  afterEach(async () => {
    await store.close();
  });

  async function addImage(index: number): Promise<number> {
    const stream = `image-${index}`;
    const data = { projectId: 'p1', imageId: String(index) };
    const { position } = await store.append(stream, [{ type: 'ImageUploaded', v: 1, data }], {
      expectedRevision: 'no_stream',
      metadata,
    });
    history.push({
      id: String(position),
      position,
      projectId: 'p1',
      stream,
      type: 'ImageUploaded',
      v: 1,
      data,
      metadata,
    });
    return position;
  }

  const imageIds = (events: { data: unknown }[]) => events.map((event) => (event.data as { imageId: string }).imageId);

  it('reads the project once for the reads queued behind each other, each cut at its own position, and again after an append', async () => {
    const positions: number[] = [];
    for (let index = 0; index < 5; index += 1) positions.push(await addImage(index));
    const reads = new WholeProjectReads();
    const upTo = (position: number) =>
      reads.run(() => reads.eventsUpTo(store, 'p1', history, position, new EventLoopSlices()));

    const answers = await Promise.all([upTo(positions[1]), upTo(positions[3]), upTo(positions[4])]);
    expect(answers.map(imageIds)).toEqual([
      ['0', '1'],
      ['0', '1', '2', '3'],
      ['0', '1', '2', '3', '4'],
    ]);
    expect(store.streamsRead).toBe(5);

    // Nothing queued any more: the next read goes to the store, and sees what was appended since.
    const later = await addImage(5);
    expect(imageIds(await upTo(later))).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(store.streamsRead).toBe(11);
  });
});
