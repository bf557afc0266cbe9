import { describe, expect, it } from 'vitest';
import {
  type AllStreamResolvedEvent,
  DeadlineExceededError,
  type EventStoreDBClient,
  type JSONEventData,
  type Position,
} from '@eventstore/db-client';
import { EsdbEventStore } from './esdb-event-store.js';

const metadata = { userId: 'u', correlationId: 'c', causationId: null, at: '2026-01-01T00:00:00.000Z' };

interface StoredRecord {
  streamId: string;
  id: string;
  type: string;
  revision: bigint;
  data: unknown;
  metadata: unknown;
  position: Position;
  created: Date;
}

/**
 * Plays EventStoreDB as its client documents it: $all holds system records (`$`-types) among the events and
 * maxCount counts them; reads start at the given position inclusive; an append whose event ids are already in
 * the stream is acknowledged without writing them again (idempotent writes); breaking out of a subscription's
 * iteration leaves the server-side subscription open until unsubscribe().
 */
class FakeEventStoreDb {
  readonly records: StoredRecord[] = [];
  openSubscriptions = 0;
  /** Appends that write, then lose their answer, as a timeout after the server committed would. */
  loseNextAnswers = 0;

  record(streamId: string, type: string, data: unknown = {}, recordMetadata: unknown = metadata): StoredRecord {
    const prepare = BigInt(this.records.length * 100 + 100);
    const revision = BigInt(this.records.filter((r) => r.streamId === streamId).length);
    const stored = {
      streamId,
      id: `${streamId}-${revision}`,
      type,
      revision,
      data,
      metadata: recordMetadata,
      position: { commit: prepare, prepare },
      created: new Date('2026-02-03T04:05:06.000Z'),
    };
    this.records.push(stored);
    return stored;
  }

  async appendToStream(streamId: string, events: JSONEventData[]) {
    const ids = new Set(this.records.filter((r) => r.streamId === streamId).map((r) => r.id));
    let last: StoredRecord | undefined;
    if (events.every((event) => ids.has(event.id))) {
      last = this.records.filter((r) => r.streamId === streamId && r.id === events.at(-1)!.id)[0];
    } else {
      for (const event of events) {
        last = this.record(streamId, event.type, event.data, event.metadata);
        last.id = event.id;
      }
    }
    if (this.loseNextAnswers > 0) {
      this.loseNextAnswers -= 1;
      throw new DeadlineExceededError(undefined, 'Deadline exceeded');
    }
    return { success: true, nextExpectedRevision: last!.revision, position: last!.position };
  }

  readAll(options: { direction?: string; fromPosition?: unknown; maxCount?: number | bigint }) {
    const ordered = options.direction === 'backwards' ? [...this.records].reverse() : this.records;
    const from = options.fromPosition;
    const start =
      from === 'start' || from === 'end' || from === undefined
        ? 0
        : ordered.findIndex((r) =>
            options.direction === 'backwards'
              ? r.position.prepare <= (from as Position).prepare
              : r.position.prepare >= (from as Position).prepare,
          );
    const page = start < 0 ? [] : ordered.slice(start, start + Number(options.maxCount ?? Number.MAX_SAFE_INTEGER));
    return (async function* () {
      for (const r of page) yield resolved(r);
    })();
  }

  subscribeToAll(options: { fromPosition?: unknown }) {
    this.openSubscriptions += 1;
    const from = options.fromPosition;
    const records = this.records.filter(
      (r) => r.type[0] !== '$' && (from === 'start' || r.position.prepare >= (from as Position).prepare),
    );
    let unsubscribed = false;
    let end: () => void = () => {};
    const ended = new Promise<void>((resolve) => (end = resolve));
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the subscription object's methods update this fake
    const fake = this;
    return {
      async unsubscribe() {
        if (!unsubscribed) fake.openSubscriptions -= 1;
        unsubscribed = true;
        end();
      },
      async *[Symbol.asyncIterator]() {
        for (const r of records) yield resolved(r);
        await ended; // a live subscription waits for more, until it is cancelled
      },
    };
  }

  async dispose() {}
}

function resolved(r: StoredRecord): AllStreamResolvedEvent {
  return {
    event: {
      streamId: r.streamId,
      id: r.id,
      revision: r.revision,
      type: r.type,
      data: r.data,
      metadata: r.metadata,
      isJson: true,
      position: r.position,
      created: r.created,
    },
    commitPosition: r.position.commit,
  } as unknown as AllStreamResolvedEvent;
}

function storeOn(fake: FakeEventStoreDb) {
  return new EsdbEventStore(fake as unknown as EventStoreDBClient);
}

describe('EsdbEventStore against the documented client behaviour', () => {
  it('returns full batches from readAll although system records sit among the events', async () => {
    const fake = new FakeEventStoreDb();
    for (let i = 0; i < 6; i += 1) {
      fake.record(`thing-${i}`, 'ThingHappened', { i });
      fake.record('$stats-0', '$statsCollected');
      fake.record('$$thing', '$metadata');
    }
    const store = storeOn(fake);
    const first = await store.readAll({ limit: 4 });
    expect(first.map((event) => (event.data as { i: number }).i)).toEqual([0, 1, 2, 3]);
    const rest = await store.readAll({ after: first[3].position, limit: 4 });
    expect(rest.map((event) => (event.data as { i: number }).i)).toEqual([4, 5]);
  });

  it('finds the head of the log behind more trailing system records than one page', async () => {
    const fake = new FakeEventStoreDb();
    const last = fake.record('thing-1', 'ThingHappened');
    for (let i = 0; i < 700; i += 1) fake.record('$stats-0', '$statsCollected');
    expect(await storeOn(fake).headPosition()).toBe(Number(last.position.prepare));
    expect(await storeOn(new FakeEventStoreDb()).headPosition()).toBe(-1);
  });

  it('ends the server-side subscription before subscribing again after a handler error', async () => {
    const fake = new FakeEventStoreDb();
    fake.record('thing-1', 'ThingHappened');
    const store = storeOn(fake);
    let failures = 0;
    const handled: string[] = [];
    const subscription = store.subscribeToAll(-1, (event) => {
      if (failures < 2) {
        failures += 1;
        throw new Error('read model unavailable');
      }
      handled.push(event.streamId);
    });
    const deadline = Date.now() + 10_000;
    while (handled.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(handled).toEqual(['thing-1']);
    expect(fake.openSubscriptions).toBe(1);
    await subscription.close();
    expect(fake.openSubscriptions).toBe(0);
  }, 15_000);

  it('sends an append again after a lost answer with the same event ids, so it is written once', async () => {
    const fake = new FakeEventStoreDb();
    fake.loseNextAnswers = 1;
    const store = storeOn(fake);
    const result = await store.append('thing-1', [{ type: 'ThingHappened', v: 1, data: { n: 1 } }], {
      expectedRevision: 'no_stream',
      metadata,
    });
    expect(result.revision).toBe(0);
    expect((await store.readAll()).map((event) => event.data)).toEqual([{ n: 1 }]);
  });

  it("sends the writer's event ids, so the writer's own resend is recognised too, and reads them back", async () => {
    const fake = new FakeEventStoreDb();
    const store = storeOn(fake);
    const eventIds = ['5f0c7c1e-8f63-4a5e-9b0e-2d8f3c1a7b11'];
    const first = await store.append('thing-1', [{ type: 'ThingHappened', v: 1, data: {} }], {
      expectedRevision: 'no_stream',
      metadata,
      eventIds,
    });
    const again = await store.append('thing-1', [{ type: 'ThingHappened', v: 1, data: {} }], {
      expectedRevision: 'no_stream',
      metadata,
      eventIds,
    });
    expect(again).toEqual(first);
    expect((await store.readAll()).map((event) => event.id)).toEqual(eventIds);
  });

  it('reads an event written without metadata, filling in what projections need', async () => {
    const fake = new FakeEventStoreDb();
    fake.record('thing-1', 'ThingHappened', { n: 1 }, null);
    const [event] = await storeOn(fake).readAll();
    expect(event.metadata).toEqual({
      userId: null,
      correlationId: 'thing-1-0',
      causationId: null,
      at: '2026-02-03T04:05:06.000Z',
    });
  });
});
