import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventStoreContract } from '../testing/event-store.contract.js';
import { Upcasters } from '../upcasters.js';
import { SqliteEventStore } from './sqlite-event-store.js';

eventStoreContract('SQLite', async () => new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 20 }));

describe('SqliteEventStore on a file', () => {
  const metadata = { userId: null, correlationId: 'c', causationId: null, at: '2026-01-01T00:00:00.000Z' };

  it('keeps events across reopening, and a second connection sees appends of the first', async () => {
    const filename = join(mkdtempSync(join(tmpdir(), 'diyml-es-')), 'events.sqlite');
    const writer = new SqliteEventStore({ filename });
    const reader = new SqliteEventStore({ filename, pollIntervalMs: 10 });
    await writer.append('user-1', [{ type: 'UserRegistered', v: 1, data: { username: 'ada' } }], {
      expectedRevision: 'no_stream',
      metadata,
    });
    expect((await reader.readStream('user-1')).map((e) => e.data)).toEqual([{ username: 'ada' }]);
    await writer.close();
    await reader.close();
    const reopened = new SqliteEventStore({ filename });
    expect(await reopened.headPosition()).toBe(1);
    await reopened.close();
  });

  it('delivers events appended by another connection to every subscription of this one', async () => {
    const filename = join(mkdtempSync(join(tmpdir(), 'diyml-es-')), 'events.sqlite');
    const writer = new SqliteEventStore({ filename });
    const reader = new SqliteEventStore({ filename, pollIntervalMs: 10 });
    const append = (streamId: string) =>
      writer.append(streamId, [{ type: 'Happened', v: 1, data: { streamId } }], { expectedRevision: 'any', metadata });
    const delivered = (count: number) =>
      new Promise<string[]>((resolve) => {
        const seen: string[] = [];
        const subscription = reader.subscribeToAll(-1, async (event) => {
          seen.push(event.streamId);
          if (seen.length === count) void subscription.close().then(() => resolve(seen));
        });
      });
    await append('s-1');
    const first = delivered(3);
    const second = delivered(3);
    await append('s-2');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await append('s-3');
    expect(await first).toEqual(['s-1', 's-2', 's-3']);
    expect(await second).toEqual(['s-1', 's-2', 's-3']);
    await writer.close();
    await reader.close();
  });

  it('delivers an event appended while the subscriber is busy at once, not after the poll interval', async () => {
    const store = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 60_000 });
    const seen: string[] = [];
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const subscription = store.subscribeToAll(-1, async (event) => {
        seen.push(event.type);
        if (event.type === 'First') {
          await store.append('s-2', [{ type: 'Second', v: 1, data: {} }], { expectedRevision: 'any', metadata });
        } else {
          void subscription.close().then(resolve);
        }
      });
      void store.append('s-1', [{ type: 'First', v: 1, data: {} }], { expectedRevision: 'any', metadata });
    });
    expect(seen).toEqual(['First', 'Second']);
    expect(Date.now() - started).toBeLessThan(5_000);
    await store.close();
  });

  it('upcasts old event versions on read', async () => {
    const upcasters = new Upcasters([
      { type: 'Renamed', fromVersion: 1, upcast: (data) => ({ name: (data as { title: string }).title }) },
    ]);
    const store = new SqliteEventStore({ filename: ':memory:', upcasters });
    await store.append('s-1', [{ type: 'Renamed', v: 1, data: { title: 'old shape' } }], {
      expectedRevision: 'any',
      metadata,
    });
    const [event] = await store.readStream('s-1');
    expect(event).toMatchObject({ v: 2, data: { name: 'old shape' } });
    await store.close();
  });
});
