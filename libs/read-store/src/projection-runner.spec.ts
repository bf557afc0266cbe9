import { afterEach, describe, expect, it } from 'vitest';
import type { DiscoveryService } from '@nestjs/core';
import { type RecordedEvent, SqliteEventStore } from '@diyml/event-store';
import { InMemoryReadStore } from './memory/in-memory-read-store.js';
import type { Projection } from './projection.js';
import { PARKED_EVENTS, ProjectionRunner } from './projection-runner.js';
import type { ReadStore } from './read-store.port.js';

const metadata = { userId: null, correlationId: 'c', causationId: null, at: '2026-01-01T00:00:00.000Z' };

/** Counts Ticked events, and remembers how often each event was applied. */
class TickCounter implements Projection {
  readonly name = 'ticks';
  readonly collections = ['ticks'];
  readonly eventTypes = ['Ticked'];
  applied: number[] = [];

  constructor(readonly version = 1) {}

  async apply(event: RecordedEvent, store: ReadStore): Promise<void> {
    this.applied.push(event.position);
    await store
      .collection<{ id: string; count: number; version: number }>('ticks')
      .apply('total', event.position, (current) => ({
        id: 'total',
        count: (current?.count ?? 0) + 1,
        version: this.version,
      }));
  }
}

const noDiscovery = {} as DiscoveryService;

describe('ProjectionRunner', () => {
  const runners: ProjectionRunner[] = [];
  let events: SqliteEventStore;

  afterEach(async () => {
    for (const runner of runners.splice(0)) await runner.stop();
    await events.close();
  });

  async function tick(count: number) {
    for (let i = 0; i < count; i += 1) {
      await events.append('clock-1', [{ type: 'Ticked', v: 1, data: {} }], { expectedRevision: 'any', metadata });
    }
  }

  function runner(store: ReadStore) {
    const created = new ProjectionRunner(noDiscovery, events, store);
    runners.push(created);
    return created;
  }

  async function total(store: ReadStore) {
    return (await store.collection<{ id: string; count: number; version: number }>('ticks').get('total'))?.count;
  }

  it('catches up with the log before start resolves, then follows new events', async () => {
    events = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 10 });
    await tick(3);
    const store = new InMemoryReadStore();
    const projectionRunner = runner(store);
    await projectionRunner.start([new TickCounter()]);
    expect(await total(store)).toBe(3);
    await tick(1);
    await projectionRunner.waitFor(await events.headPosition(), 2000);
    expect(await total(store)).toBe(4);
  });

  it('resumes from its checkpoint after a restart without applying anything twice', async () => {
    events = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 10 });
    await tick(5);
    const store = new InMemoryReadStore();
    const first = runner(store);
    await first.start([new TickCounter()]);
    await first.stop();
    await tick(2);
    const counter = new TickCounter();
    await runner(store).start([counter]);
    expect(counter.applied).toHaveLength(2);
    expect(await total(store)).toBe(7);
  });

  it('rebuilds a read model from zero when its projection version changes', async () => {
    events = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 10 });
    await tick(4);
    const store = new InMemoryReadStore();
    const first = runner(store);
    await first.start([new TickCounter(1)]);
    await first.stop();
    const bumped = new TickCounter(2);
    await runner(store).start([bumped]);
    expect(bumped.applied).toHaveLength(4);
    const document = await store.collection<{ id: string; count: number; version: number }>('ticks').get('total');
    expect(document).toEqual({ id: 'total', count: 4, version: 2 });
  });

  it('answers READ_MODEL_LAGGING when a write waits longer than its bound', async () => {
    events = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 10 });
    const projectionRunner = runner(new InMemoryReadStore());
    await projectionRunner.start([new TickCounter()]);
    await expect(projectionRunner.waitFor(10_000, 50)).rejects.toMatchObject({ code: 'READ_MODEL_LAGGING' });
  });
  it('parks an event a projection keeps failing on, so the other projections and start-up go on', async () => {
    events = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 10 });
    await tick(1);
    await events.append('clock-1', [{ type: 'Ticked', v: 1, data: { poison: true } }], {
      expectedRevision: 'any',
      metadata,
    });
    await tick(1);
    const failing: Projection = {
      name: 'fragile',
      version: 1,
      collections: [],
      eventTypes: ['Ticked'],
      async apply(event) {
        if ((event.data as { poison?: boolean }).poison) throw new Error('cannot read property "at" of undefined');
      },
    };
    const store = new InMemoryReadStore();
    const projectionRunner = runner(store);
    projectionRunner.retryDelaysMs = [0, 0];
    await projectionRunner.start([failing, new TickCounter()]);
    expect(await total(store)).toBe(3);
    const parked = {
      id: 'fragile@2',
      projection: 'fragile',
      position: 2,
      streamId: 'clock-1',
      type: 'Ticked',
      error: 'cannot read property "at" of undefined',
    };
    expect(projectionRunner.parked).toEqual([parked]);
    expect(await store.collection(PARKED_EVENTS).findAll()).toEqual([parked]);
  });
});
