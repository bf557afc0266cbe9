/**
 * Event log throughput: how fast commands' events are appended to the log (one append per event, with its
 * expected revision, as command handlers do; the first half of the log by one writer awaiting each append, the
 * second half by 16 writers at once, as an api serving that many requests), and how fast every read model is
 * rebuilt from a log of 200,000 events (`npm run replay -- --verify`, which also checks the rebuild equals what
 * the api built at start).
 * Embedded stack (SQLite log, in-memory read models) by default; with --postgres, the PostgreSQL log and read
 * models in a fresh database on POSTGRES_URL's server.
 *
 * Run: npx tsx bench/event-log.ts [--quick | --smoke] [--postgres]
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventMetadata } from '@diyml/core/pure';
import { type EventStore, PostgresEventStore, SqliteEventStore } from '@diyml/event-store';
import { defaultTrainingConfig } from '@diyml/projects';
import { buildProduct, ROOT } from './support/product.js';
import { benchDatabase, isPostgresMode } from './support/postgres.js';
import { emitResult, sized } from './support/result.js';

const TARGET_EVENTS = sized({ full: 200_000, quick: 20_000, smoke: 2_000 });
const PROJECTS = 10;
const LABELS = ['shirt', 'trouser', 'sneaker'];
/** Writers appending at once in the second half of the log. */
const WRITERS = 16;

const postgres = isPostgresMode() ? await benchDatabase() : undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'diyml-bench-log-'));
const store: EventStore = postgres
  ? await PostgresEventStore.connect({
      url: postgres.url,
      synchronousCommit: process.env.POSTGRES_SYNCHRONOUS_COMMIT !== 'off',
    })
  : new SqliteEventStore({ filename: join(dataDir, 'events.sqlite') });
const userId = randomUUID();
let clock = Date.parse('2026-01-01T00:00:00Z');
const metadata = (): EventMetadata => ({
  userId,
  correlationId: randomUUID(),
  causationId: null,
  at: new Date((clock += 7)).toISOString(),
});
let appended = 0;
const append = async (
  stream: string,
  type: string,
  data: Record<string, unknown>,
  expectedRevision: number | 'no_stream',
) => {
  const events = [{ type, v: type === 'UserRegistered' ? 2 : 1, data }];
  const options = { expectedRevision, metadata: metadata() };
  // The SQLite store's synchronous append: the figure measures the log, not a promise per event.
  if (store instanceof SqliteEventStore) store.appendSync(stream, events, options);
  else await store.append(stream, events, options);
  appended += 1;
};

const started = performance.now();
await append(
  `user-${userId}`,
  'UserRegistered',
  {
    userId,
    username: 'bench',
    credentials: { algorithm: 'argon2id', hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA' },
    registeredAt: new Date(clock).toISOString(),
  },
  'no_stream',
);
const projects: { projectId: string; labelIds: string[] }[] = [];
for (let index = 0; index < PROJECTS; index += 1) {
  const projectId = randomUUID();
  const stream = `project-${projectId}`;
  await append(
    stream,
    'ProjectCreated',
    {
      projectId,
      ownerId: userId,
      name: `project ${projectId.slice(0, 8)}`,
      type: 'classification',
      description: '',
      trainingConfig: defaultTrainingConfig('classification'),
      createdAt: new Date(clock).toISOString(),
    },
    'no_stream',
  );
  const labelIds: string[] = [];
  for (const [revision, name] of LABELS.entries()) {
    const labelId = randomUUID();
    await append(stream, 'LabelAdded', { projectId, labelId, name, addedAt: new Date(clock).toISOString() }, revision);
    labelIds.push(labelId);
  }
  projects.push({ projectId, labelIds });
}
/** One image's appends, one after the other as the upload and labeling commands make them. */
const recordImage = async (image: number) => {
  const { projectId, labelIds } = projects[image % PROJECTS];
  const imageId = randomUUID();
  const sha256 = randomUUID().replaceAll('-', '').padEnd(64, '0');
  await append(
    `image-content-${projectId}-${sha256}`,
    'ImageContentClaimed',
    { projectId, sha256, imageId },
    'no_stream',
  );
  await append(
    `image-${imageId}`,
    'ImageUploaded',
    {
      projectId,
      imageId,
      filename: `image-${image}.png`,
      sha256,
      width: 28,
      height: 28,
      format: 'png',
      bytes: 300 + (image % 200),
      dhash: sha256.slice(0, 16),
      labelId: labelIds[image % labelIds.length],
      split: 'train',
    },
    'no_stream',
  );
  await append(
    `image-${imageId}`,
    'ImageLabeled',
    { projectId, imageId, labelId: labelIds[(image + 1) % labelIds.length] },
    0,
  );
  if (image % 5 === 0)
    await append(`image-${imageId}`, 'ImageSplitAssigned', { projectId, imageId, split: 'validation' }, 1);
};
// First half: one writer, each append awaited before the next (the latency of an append).
let image = 0;
while (appended < TARGET_EVENTS / 2) await recordImage(image++);
const appendSeconds = (performance.now() - started) / 1000;
const sequentialAppended = appended;
// Second half: WRITERS writers at once, as an api serving that many requests (different images, so no conflicts).
const concurrentStarted = performance.now();
await Promise.all(
  Array.from({ length: WRITERS }, async () => {
    while (appended < TARGET_EVENTS) await recordImage(image++);
  }),
);
const concurrentSeconds = (performance.now() - concurrentStarted) / 1000;
await store.close();

buildProduct();
/** Runs the built `replay` command on this log; its output and how long it took. */
const replay = (args: string[]) => {
  const replayStarted = performance.now();
  const output = execFileSync(process.execPath, [join(ROOT, 'dist/apps/api/src/replay.js'), ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'error',
      MONGODB_URI: '',
      EVENTSTORE_CONNECTION_STRING: '',
      POSTGRES_URL: postgres?.url ?? '',
      REDIS_URL: '',
    },
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (!output.includes('Read models equal a rebuild from the log.')) {
    throw new Error(`replay ${args.join(' ')} did not find the read models equal to a rebuild:\n${output}`);
  }
  return { output, seconds: (performance.now() - replayStarted) / 1000 };
};
// PostgreSQL read models persist and start empty here: the api's projections catch them up from the whole log
// (`npm run replay` boots the api, so it does that, then checks them against a rebuild). --verify is read-only.
const catchUp = postgres ? replay([]) : undefined;
const verified = replay(['--verify']);
rmSync(dataDir, { recursive: true, force: true });
await postgres?.drop();
const replayed = /Replayed (\d+) events .* \((\d+) events\/s\)/.exec(verified.output);
if (!replayed) throw new Error(`replay --verify printed no replay rate:\n${verified.output}`);

emitResult(
  postgres ? 'event-log-postgres' : 'event-log',
  {
    'append rate (one event per append, with expected revision)': {
      value: sequentialAppended / appendSeconds,
      unit: 'events/s',
      better: 'higher',
    },
    [`append rate, ${WRITERS} writers at once`]: {
      value: (appended - sequentialAppended) / concurrentSeconds,
      unit: 'events/s',
      better: 'higher',
    },
    [`replay rate (all read models from ${appended} events)`]: {
      value: Number(replayed[2]),
      unit: 'events/s',
      better: 'higher',
      goal: 50_000,
    },
    'npm run replay -- --verify, whole command': { value: verified.seconds, unit: 's', better: 'lower' },
    ...(catchUp
      ? {
          'npm run replay, whole command (projections catch the PostgreSQL read models up from empty)': {
            value: catchUp.seconds,
            unit: 's',
            better: 'lower' as const,
          },
        }
      : {}),
  },
  [
    `${appended} events in ${PROJECTS} projects; replay verified equal to the read models the api built.`,
    ...(postgres ? [`POSTGRES_SYNCHRONOUS_COMMIT=${process.env.POSTGRES_SYNCHRONOUS_COMMIT ?? 'on'}`] : []),
  ],
);
