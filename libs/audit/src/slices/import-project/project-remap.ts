import { sha256Of } from '@diyml/blobs/pure';
import type { DomainEvent } from '@diyml/core/pure';
import type { ArchivedEvent } from '../export-project/project-archive.js';
import type { ProjectArchive } from './project-archive-reader.js';

const UUID_ANYWHERE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const WHOLE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHA256_ANYWHERE = /[0-9a-f]{64}/g;
/** Fields naming a user: in an imported project, that is the importing user. */
const USER_FIELD = /^(ownerId|userId)$|By$/;
/** Fields naming something of another installation (where an imported project came from): kept as they are. */
const ELSEWHERE_FIELD = /^source[A-Z]/;
/**
 * Fields whose values users write (an image's metadata): a UUID there is theirs (a sample's, a camera's), never an id
 * of the archive, even under a key ending in "By". A value equal to an id of the archive still follows it.
 */
const USER_WRITTEN_FIELD = 'metadata';
/** Deployment key hashes: an imported deployment must not answer to the key it had where it came from. */
const KEY_HASH_FIELD = 'keyHash';

export interface RemapOptions {
  /** A new id for each id of the archive. */
  newId(): string;
  /** Who imports: the owner of the new project and the user behind every imported event. */
  importerId: string;
  /** A hash no key will ever match (the key it hashes is thrown away). */
  unusableKeyHash(): string;
}

export interface RemappedEvent extends DomainEvent<string, Record<string, unknown>> {
  stream: string;
  at: string;
}

function collectIds(value: unknown, ids: Set<string>, users: Set<string>, key = ''): void {
  if (key === USER_WRITTEN_FIELD) return;
  if (Array.isArray(value)) {
    for (const item of value) collectIds(item, ids, users, key);
  } else if (typeof value === 'object' && value !== null) {
    for (const [childKey, child] of Object.entries(value)) collectIds(child, ids, users, childKey);
  } else if (typeof value === 'string' && WHOLE_UUID.test(value) && !ELSEWHERE_FIELD.test(key)) {
    (USER_FIELD.test(key) ? users : ids).add(value.toLowerCase());
  }
}

function withoutKeyHashes(value: unknown, unusableKeyHash: () => string): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutKeyHashes(item, unusableKeyHash));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key,
      key === KEY_HASH_FIELD ? unusableKeyHash() : withoutKeyHashes(child, unusableKeyHash),
    ]),
  );
}

/**
 * Gives an archived project new ids, consistently everywhere they occur: in stream names, event data and the
 * JSON blobs that name them (a dataset manifest lists image and label ids, so it is rewritten and gets a new
 * sha256, which the events then reference). Every id of the archive is one whose value is a UUID in event data
 * or a stream name (but sourceProjectId and the like, which name another installation's things); user ids (ownerId,
 * userId, …By) become the importing user. Deployment key hashes are replaced by hashes of thrown-away keys. Blobs
 * go through `blob` one at a time as they stream from the archive; `events` comes after the last of them. Pure
 * apart from the ids and hashes the options produce.
 */
export class ProjectRemap {
  readonly projectId: string;
  /** Old id → new id, for every id of the archive (users excluded). */
  readonly ids: ReadonlyMap<string, string>;
  private readonly replacements: Map<string, string>;
  /** Old → new sha256 of the JSON blobs rewritten so far. */
  private readonly newSha = new Map<string, string>();

  constructor(
    private readonly archive: Pick<ProjectArchive, 'manifest' | 'events'>,
    private readonly options: RemapOptions,
  ) {
    const found = new Set<string>();
    const users = new Set<string>();
    for (const event of archive.events) {
      for (const match of event.stream.matchAll(UUID_ANYWHERE)) found.add(match[0].toLowerCase());
      collectIds(event.data, found, users);
    }
    const ids = new Map<string, string>();
    for (const id of found) if (!users.has(id)) ids.set(id, options.newId());
    this.replacements = new Map<string, string>(ids);
    for (const user of users) this.replacements.set(user, options.importerId);
    this.ids = ids;
    this.projectId = ids.get(archive.manifest.project.id.toLowerCase())!;
  }

  /** The bytes to store for the archive's blob `sha256`: as they came, or, for JSON naming ids, rewritten. */
  blob(sha256: string, bytes: Uint8Array): Uint8Array {
    const rewritten = rewriteJsonBlob(bytes, this.replaceIds);
    if (!rewritten) return bytes;
    const stored = new TextEncoder().encode(rewritten);
    this.newSha.set(sha256, sha256Of(stored));
    return stored;
  }

  /** The events with the new ids, referencing the new hashes of the blobs `blob` rewrote. */
  events(): RemappedEvent[] {
    const replaceShas = (text: string) => text.replace(SHA256_ANYWHERE, (sha256) => this.newSha.get(sha256) ?? sha256);
    return this.archive.events.map((event: ArchivedEvent): RemappedEvent => {
      const data = withoutKeyHashes(
        JSON.parse(replaceShas(this.replaceIds(JSON.stringify(event.data)))),
        this.options.unusableKeyHash,
      );
      return {
        stream: this.replaceIds(event.stream),
        type: event.type,
        v: event.v,
        data: data as Record<string, unknown>,
        at: event.at,
      };
    });
  }

  private readonly replaceIds = (text: string) =>
    text.replace(UUID_ANYWHERE, (id) => this.replacements.get(id.toLowerCase()) ?? id);
}

/**
 * Whether a blob starting with this byte may be JSON naming ids: an object (a dataset manifest) or an array (a test
 * run's predictions, each naming its image). Images, models and embedding tables never start so.
 */
export function mayBeJsonBlob(firstByte: number | undefined): boolean {
  return firstByte === 0x7b /* { */ || firstByte === 0x5b; /* [ */
}

/** The blob's JSON text with the ids replaced, when it is JSON that names any; else null (kept as is). */
function rewriteJsonBlob(bytes: Uint8Array, replaceIds: (text: string) => string): string | null {
  if (!mayBeJsonBlob(bytes[0])) return null;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    JSON.parse(text);
  } catch {
    return null;
  }
  const rewritten = replaceIds(text);
  return rewritten === text ? null : rewritten;
}

export interface AppendBatch {
  stream: string;
  events: RemappedEvent[];
  /** The time every event of the batch is recorded at (the store takes one metadata per append). */
  at: string;
}

/**
 * The appends that write the events back: in their original order, one event per append (each keeps its time),
 * except that a stream holding an event a reactor starts work on (IterationQueued, TestRunRequested…) is
 * appended whole, at its first event's place and time, so the job it starts finds the iteration or test run as
 * finished as it was exported and does nothing (an unfinished one is taken up again, as after a restart).
 * A stream holding a cache that background jobs fill (`cacheTypes`: embedding tables) is appended whole, at its
 * first event's time, right after the project's first event: the job an imported upload starts (embedding the
 * photo) then finds it in the table, instead of writing the stream first and making the import's append conflict.
 * Projections that read across streams (images and label removals, claims and uploads) see the original order.
 */
export function appendBatches(
  events: readonly RemappedEvent[],
  reactorTypes: ReadonlySet<string>,
  cacheTypes: ReadonlySet<string> = new Set(),
): AppendBatch[] {
  const byStream = new Map<string, RemappedEvent[]>();
  for (const event of events) {
    const streamEvents = byStream.get(event.stream);
    if (streamEvents) streamEvents.push(event);
    else byStream.set(event.stream, [event]);
  }
  const holding = (types: ReadonlySet<string>) =>
    new Set(
      [...byStream]
        .filter(([, streamEvents]) => streamEvents.some((event) => types.has(event.type)))
        .map(([stream]) => stream),
    );
  const caches = holding(cacheTypes);
  const whole = holding(reactorTypes);
  const batches: AppendBatch[] = [];
  const written = new Set<string>();
  for (const event of events) {
    if (caches.has(event.stream)) continue;
    if (!whole.has(event.stream)) {
      batches.push({ stream: event.stream, events: [event], at: event.at });
    } else if (!written.has(event.stream)) {
      written.add(event.stream);
      batches.push({ stream: event.stream, events: byStream.get(event.stream)!, at: event.at });
    }
  }
  const cacheBatches = [...caches].map((stream) => {
    const streamEvents = byStream.get(stream)!;
    return { stream, events: streamEvents, at: streamEvents[0].at };
  });
  batches.splice(Math.min(1, batches.length), 0, ...cacheBatches);
  return batches;
}
