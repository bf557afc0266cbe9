import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { DomainError, type EventMetadata } from '@diyml/core/pure';
import type { EventStore, RecordedEvent } from '../event-store.port.js';
import { EVENT_ID_REUSED } from '../event-ids.js';
import { WRONG_EXPECTED_REVISION } from '../wrong-expected-revision.error.js';

const metadata: EventMetadata = {
  userId: 'user-1',
  correlationId: 'correlation-1',
  causationId: null,
  at: '2026-01-01T00:00:00.000Z',
};

function event(type: string, data: Record<string, unknown> = {}, v = 1) {
  return { type, v, data };
}

async function collect(store: EventStore, after: number, count: number): Promise<RecordedEvent[]> {
  const received: RecordedEvent[] = [];
  await new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error(`only ${received.length} of ${count} events arrived`)), 5000);
    const subscription = store.subscribeToAll(after, async (recorded) => {
      received.push(recorded);
      if (received.length === count) {
        clearTimeout(timeout);
        void subscription.close().then(resolve);
      }
    });
  });
  return received;
}

/** The behaviour every EventStore adapter must have. */
export function eventStoreContract(name: string, create: () => Promise<EventStore>): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let stream: string;

    beforeEach(async () => {
      store = await create();
      stream = `test-${randomUUID()}`;
    });
    afterEach(async () => {
      await store.close();
    });

    it('appends to a new stream and reads it back with type, version, data and metadata', async () => {
      const result = await store.append(stream, [event('Created', { name: 'a' }), event('Renamed', { name: 'b' }, 2)], {
        expectedRevision: 'no_stream',
        metadata,
      });
      expect(result.revision).toBe(1);
      const events = await store.readStream(stream);
      expect(events.map(({ type, v, data, revision, streamId }) => ({ type, v, data, revision, streamId }))).toEqual([
        { type: 'Created', v: 1, data: { name: 'a' }, revision: 0, streamId: stream },
        { type: 'Renamed', v: 2, data: { name: 'b' }, revision: 1, streamId: stream },
      ]);
      expect(events[1].metadata).toEqual(metadata);
      expect(events[1].position).toBe(result.position);
      expect(events[1].position).toBeGreaterThan(events[0].position);
    });

    it('reads a stream that does not exist as empty', async () => {
      await expect(store.readStream(`missing-${randomUUID()}`)).resolves.toEqual([]);
    });

    it('refuses an append with a stale expected revision and keeps the stream unchanged', async () => {
      await store.append(stream, [event('Created')], { expectedRevision: 'no_stream', metadata });
      await store.append(stream, [event('Renamed')], { expectedRevision: 0, metadata });
      const stale = store.append(stream, [event('Described')], { expectedRevision: 0, metadata });
      await expect(stale).rejects.toBeInstanceOf(DomainError);
      await expect(stale).rejects.toMatchObject({ code: WRONG_EXPECTED_REVISION, kind: 'conflict' });
      expect((await store.readStream(stream)).map((e) => e.type)).toEqual(['Created', 'Renamed']);
    });

    it('refuses to create a stream twice with no_stream', async () => {
      await store.append(stream, [event('Created')], { expectedRevision: 'no_stream', metadata });
      await expect(
        store.append(stream, [event('Created')], { expectedRevision: 'no_stream', metadata }),
      ).rejects.toMatchObject({ code: WRONG_EXPECTED_REVISION });
    });

    it('lets exactly one of two concurrent writers at the same revision win', async () => {
      await store.append(stream, [event('Created')], { expectedRevision: 'no_stream', metadata });
      const results = await Promise.allSettled([
        store.append(stream, [event('A')], { expectedRevision: 0, metadata }),
        store.append(stream, [event('B')], { expectedRevision: 0, metadata }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(await store.readStream(stream)).toHaveLength(2);
    });

    it('reads all streams in log order from a position', async () => {
      const other = `test-${randomUUID()}`;
      const first = await store.append(stream, [event('One')], { expectedRevision: 'no_stream', metadata });
      await store.append(other, [event('Two')], { expectedRevision: 'no_stream', metadata });
      await store.append(stream, [event('Three')], { expectedRevision: 0, metadata });
      const after = (await store.readAll({ after: first.position - 1 })).filter((e) =>
        [stream, other].includes(e.streamId),
      );
      expect(after.map((e) => e.type)).toEqual(['One', 'Two', 'Three']);
      const later = await store.readAll({ after: first.position, limit: 1 });
      expect(later.map((e) => e.type)).toEqual(['Two']);
      expect(await store.headPosition()).toBeGreaterThanOrEqual(after[2].position);
    });

    it('delivers past and then live events to a subscription, in order, from a position', async () => {
      const before = await store.headPosition();
      await store.append(stream, [event('Past')], { expectedRevision: 'no_stream', metadata });
      const receiving = collect(store, before, 3);
      await store.append(stream, [event('Live1'), event('Live2')], { expectedRevision: 0, metadata });
      const received = (await receiving).filter((e) => e.streamId === stream);
      expect(received.map((e) => e.type)).toEqual(['Past', 'Live1', 'Live2']);
    });

    it('delivers every event of many concurrent appends to a subscriber, once each, in position order', async () => {
      const before = await store.headPosition();
      const streams = Array.from({ length: 40 }, () => `test-${randomUUID()}`);
      const receiving = collect(store, before, streams.length);
      const results = await Promise.all(
        streams.map((id) => store.append(id, [event('Concurrent')], { expectedRevision: 'no_stream', metadata })),
      );
      const received = await receiving;
      expect(new Set(received.map((e) => e.streamId))).toEqual(new Set(streams));
      const positions = received.map((e) => e.position);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      expect(new Set(positions)).toEqual(new Set(results.map((r) => r.position)));
      expect((await store.readAll({ after: before })).map((e) => e.position)).toEqual(positions);
    });

    it('answers an append sent again with the same event ids with its original revision and position, stored once', async () => {
      const eventIds = [randomUUID(), randomUUID()];
      const first = await store.append(stream, [event('Created'), event('Renamed')], {
        expectedRevision: 'no_stream',
        metadata,
        eventIds,
      });
      await store.append(`test-${randomUUID()}`, [event('Elsewhere')], { expectedRevision: 'no_stream', metadata });
      const again = await store.append(stream, [event('Created'), event('Renamed')], {
        expectedRevision: 'no_stream',
        metadata,
        eventIds,
      });
      expect(again).toEqual(first);
      await store.append(stream, [event('Described')], { expectedRevision: 1, metadata });
      const late = await store.append(stream, [event('Created'), event('Renamed')], {
        expectedRevision: 'no_stream',
        metadata,
        eventIds,
      });
      expect(late).toEqual(first);
      const events = await store.readStream(stream);
      expect(events.map((e) => e.type)).toEqual(['Created', 'Renamed', 'Described']);
      expect(events.slice(0, 2).map((e) => e.id)).toEqual(eventIds);
      expect(new Set(events.map((e) => e.id)).size).toBe(3);
    });

    it('refuses event ids that the log has for other events, and stores nothing of that append', async () => {
      const taken = randomUUID();
      await store.append(stream, [event('Created')], { expectedRevision: 'no_stream', metadata, eventIds: [taken] });
      const other = `test-${randomUUID()}`;
      for (const eventIds of [[taken], [randomUUID(), taken]]) {
        const reused = store.append(
          other,
          eventIds.map(() => event('Copied')),
          { expectedRevision: 'no_stream', metadata, eventIds },
        );
        await expect(reused).rejects.toMatchObject({ code: EVENT_ID_REUSED, kind: 'conflict' });
      }
      const resentElsewhere = store.append(stream, [event('Created')], {
        expectedRevision: 0,
        metadata,
        eventIds: [taken],
      });
      await expect(resentElsewhere).rejects.toMatchObject({ code: EVENT_ID_REUSED });
      await expect(store.readStream(other)).resolves.toEqual([]);
      expect((await store.readStream(stream)).map((e) => e.id)).toEqual([taken]);
    });

    it('refuses event ids that are not one distinct UUID per event', async () => {
      const twice = randomUUID();
      const cases = [
        { events: [event('A')], eventIds: ['not-a-uuid'] },
        { events: [event('A'), event('B')], eventIds: [randomUUID()] },
        { events: [event('A'), event('B')], eventIds: [twice, twice] },
      ];
      for (const { events, eventIds } of cases) {
        const append = store.append(stream, events, { expectedRevision: 'no_stream', metadata, eventIds });
        await expect(append).rejects.toMatchObject({ code: 'INVALID_EVENT_IDS', kind: 'validation' });
      }
      await expect(store.readStream(stream)).resolves.toEqual([]);
    });

    it('retries an event whose handler failed instead of skipping it', async () => {
      const before = await store.headPosition();
      await store.append(stream, [event('Flaky'), event('Next')], { expectedRevision: 'no_stream', metadata });
      let attempts = 0;
      const handled: string[] = [];
      await new Promise<void>((resolve) => {
        const subscription = store.subscribeToAll(before, (recorded) => {
          if (recorded.type === 'Flaky' && attempts++ === 0) throw new Error('transient');
          handled.push(recorded.type);
          if (handled.length === 2) void subscription.close().then(resolve);
        });
      });
      expect(handled).toEqual(['Flaky', 'Next']);
    });
  });
}
