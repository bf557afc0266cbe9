import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { AppModule } from '../../apps/api/src/app.module.js';
import { configureApp } from '../../apps/api/src/configure-app.js';
import type { DomainEvent, EventMetadata } from '../../libs/core/src/index.js';
import { Settings, validateSettings } from '../../libs/core/src/index.js';
import {
  type AppendResult,
  EventStore,
  type ExpectedRevision,
  SqliteEventStore,
  Upcasters,
} from '../../libs/event-store/src/index.js';
import type { TestApp } from './test-app.js';

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
export async function startTestAppWithSlowAppends(delayMs: number): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'diyml-test-'));
  const settings = validateSettings({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(Settings)
    .useValue(settings)
    .overrideProvider(EventStore)
    .useFactory({
      inject: [Upcasters],
      factory: (upcasters: Upcasters) => new SlowAppendEventStore(join(dataDir, 'events.sqlite'), upcasters, delayMs),
    })
    .compile();
  const app = configureApp(moduleRef.createNestApplication({ bufferLogs: true }));
  await app.init();
  const close = () => app.close();
  return {
    app,
    http: request(app.getHttpServer()),
    dataDir,
    settings,
    close,
    async destroy() {
      await close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
