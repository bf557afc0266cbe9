import type { INestApplication } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { AppModule } from '../../apps/api/src/app.module.js';
import { configureApp } from '../../apps/api/src/configure-app.js';
import { createOpenApiDocument } from '../../apps/api/src/openapi-document.js';
import { WorkerModule } from '../../apps/worker/src/worker.module.js';
import { Settings, validateSettings } from '@diyml/core';
import { EventStore, Upcasters } from '@diyml/event-store';

export interface TestApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  dataDir: string;
  settings: Settings;
  /** Stops the app; the data directory stays so a new app can be started on it. */
  close(): Promise<void>;
  /** Stops the app and deletes its data. */
  destroy(): Promise<void>;
}

/**
 * What a `beforeAll` that boots an app may take. The boot is CPU work (Nest's module graph, the OpenAPI document,
 * the adapters: ~3 CPU-s), so its wall time grows with the machine's load: 9 s alone at load 23 on 2 cores, 14-18 s
 * beside another booting file and two busy processes, and past the default 30 s once in such a run, failing every
 * test of the file. A hang still ends the hook.
 */
export const BOOT_TIMEOUT_MS = 120_000;

declare global {
  /**
   * Apps booted and not closed yet. A boot that outlives its hook's timeout ends after the file's own afterAll ran,
   * with nobody to close it: its server and timers would stay in the worker, which runs further files.
   * test/support/vitest-setup.ts closes what is left after each file (a module of the worker is loaded once for all
   * its files, so this module cannot register a hook per file itself).
   */
  var diymlOpenApps: Set<Promise<INestApplication | undefined>> | undefined;
}
const openApps = (globalThis.diymlOpenApps ??= new Set());

/**
 * Boots the real AppModule on the embedded adapters with its own data directory, as `npm start` would,
 * and drives it over HTTP.
 */
export async function startTestApp(
  options: {
    dataDir?: string;
    settings?: Record<string, unknown>;
    /** Replaces the configured event store, e.g. with one that adds latency. */
    eventStore?: (dataDir: string, upcasters: Upcasters) => EventStore;
  } = {},
): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'diyml-test-'));
  const settings = validateSettings({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    EVENTSTORE_CONNECTION_STRING: process.env.EVENTSTORE_CONNECTION_STRING,
    MONGODB_URI: process.env.MONGODB_URI,
    // The test run's cheap password hash (vitest.config.ts); a file about the hashing itself sets its own.
    ...(process.env.PASSWORD_HASH_MEMORY_KIB && { PASSWORD_HASH_MEMORY_KIB: process.env.PASSWORD_HASH_MEMORY_KIB }),
    ...options.settings,
  });
  let builder = Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(Settings)
    .useValue(settings);
  const { eventStore } = options;
  if (eventStore) {
    builder = builder
      .overrideProvider(EventStore)
      .useFactory({ inject: [Upcasters], factory: (upcasters: Upcasters) => eventStore(dataDir, upcasters) });
  }
  const booting = (async () => {
    const moduleRef = await builder.compile();
    const created = moduleRef.createNestApplication({ bufferLogs: true, bodyParser: false });
    const app = configureApp(created, openApiDocumentOf(created));
    await app.init();
    return app;
  })();
  const open = booting.catch(() => undefined);
  openApps.add(open);
  const app = await booting;
  const close = async () => {
    openApps.delete(open);
    await app.close();
  };
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

/** The AppModule's OpenAPI document as JSON, built once per test worker: see openApiDocumentOf. */
let openApiJson: string | undefined;

/**
 * The AppModule's OpenAPI document, built once per test worker: building it takes @nestjs/swagger about a
 * CPU-second, at every boot of every test file otherwise. Every test app runs the same AppModule (providers may be
 * replaced, controllers not), so the document is the same; each app gets its own copy.
 */
function openApiDocumentOf(app: INestApplication): OpenAPIObject {
  openApiJson ??= JSON.stringify(createOpenApiDocument(app));
  return JSON.parse(openApiJson) as OpenAPIObject;
}

let userCounter = 0;

/** Registers a fresh user and returns a ready `Authorization` header value. */
export async function registerAndLogIn(
  testApp: TestApp,
  username = `user${Date.now().toString(36)}${(userCounter += 1)}`,
): Promise<{ id: string; username: string; auth: string }> {
  const password = 'correct horse battery';
  const registered = await testApp.http.post('/v1/auth/register').send({ username, password }).expect(201);
  const login = await testApp.http.post('/v1/auth/login').send({ username, password }).expect(200);
  return { id: registered.body.id, username, auth: `Bearer ${login.body.accessToken}` };
}

/**
 * Boots the worker process's module (apps/worker) beside a test app, sharing its settings: with REDIS_URL
 * set, it takes the jobs the api puts on BullMQ.
 */
export async function startTestWorker(settings: Settings): Promise<{ close(): Promise<void> }> {
  const moduleRef = await Test.createTestingModule({ imports: [WorkerModule] })
    .overrideProvider(Settings)
    .useValue(settings)
    .compile();
  const worker = moduleRef.createNestApplication({ bufferLogs: true });
  await worker.init();
  return { close: () => worker.close() };
}
