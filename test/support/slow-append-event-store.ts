import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DomainEvent, EventMetadata } from '@diyml/core/pure';
import { type AppendResult, type ExpectedRevision, SqliteEventStore, type Upcasters } from '@diyml/event-store';
import { startTestApp, type TestApp } from './test-app.js';

/**
 * The embedded SQLite store with the latency of a networked one (EventStoreDB) before each append. In one
 * process the embedded adapters answer without ever yielding between a handler's read and its append, so two
 * requests cannot overlap there; with this delay they do, as they would in production, and the expected
 * revision has to catch the loser.
 */
export class SlowAppendEventStore extends SqliteEventStore {
  constructor(
    filename: string,
    upcasters: Upcasters,
    private readonly delayMs: number,
  ) {
    super({ filename, upcasters });
  }

  override async append(
    streamId: string,
    events: readonly DomainEvent[],
    options: { expectedRevision: ExpectedRevision; metadata: EventMetadata },
  ): Promise<AppendResult> {
    await sleep(this.delayMs);
    return super.append(streamId, events, options);
  }
}

/** Like startTestApp, on a SlowAppendEventStore. */
export function startTestAppWithSlowAppends(delayMs: number): Promise<TestApp> {
  return startTestApp({
    eventStore: (dataDir, upcasters) => new SlowAppendEventStore(join(dataDir, 'events.sqlite'), upcasters, delayMs),
  });
}
