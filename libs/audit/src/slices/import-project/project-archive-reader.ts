import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { BLOB_HASH_MISMATCH } from '@diyml/blobs/pure';
import { DomainError, isDomainError, isUuid } from '@diyml/core/pure';
import type { ZipArchive, ZipEntry } from '@diyml/core/pure';
import { USER_EVENT_TYPES } from '@diyml/identity/pure';
import { PROJECT_TYPES, type ProjectType } from '@diyml/projects/pure';
import {
  type ArchivedEvent,
  BLOB_ENTRY_PATTERN,
  EVENTS_ENTRY_PATTERN,
  eventsEntry,
  MANIFEST_ENTRY,
  PROJECT_ARCHIVE_FORMAT,
  PROJECT_ARCHIVE_VERSION,
  type ProjectArchiveManifest,
  requiredBlobs,
} from '../export-project/project-archive.js';
import { NEWEST_EVENT_VERSIONS, unreadableEvents } from './known-events.js';
import { mayBeJsonBlob } from './project-remap.js';

export const ProjectImportErrors = {
  ARCHIVE_REQUIRED: 'ARCHIVE_REQUIRED',
  NOT_A_PROJECT_ARCHIVE: 'NOT_A_PROJECT_ARCHIVE',
  UNSUPPORTED_PROJECT_ARCHIVE_VERSION: 'UNSUPPORTED_PROJECT_ARCHIVE_VERSION',
  CORRUPT_PROJECT_ARCHIVE: 'CORRUPT_PROJECT_ARCHIVE',
  INCOMPLETE_PROJECT_ARCHIVE: 'INCOMPLETE_PROJECT_ARCHIVE',
  UNKNOWN_EVENT_VERSIONS: 'UNKNOWN_EVENT_VERSIONS',
} as const;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/**
 * `<category>-<uuid>`, `<category>-<uuid>-<sha256>` (content claims) or `<category>-<uuid>-<16 hex digits>` (an
 * embedding table, by the hash of its space).
 */
const STREAM_PATTERN = new RegExp(`^[a-z]+(?:-[a-z]+)*-${UUID}(?:-[0-9a-f]{64}|-[0-9a-f]{16})?$`);
/** Users are never part of a project, whatever an archive says: their streams and events are refused. */
const FOREIGN_STREAM = /^(user|username)-/;
const FOREIGN_TYPES = new Set<string>([...USER_EVENT_TYPES, 'UsernameClaimed']);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A project archive's manifest and events, checked; its blobs stay in the zip until readBlobs streams them. */
export interface ProjectArchive {
  manifest: ImportedManifest;
  events: ArchivedEvent[];
  /** The blobs the events reference (all in the archive, by name). */
  requiredBlobs: Set<string>;
  /** Blobs the archive carries that no event references: passed over, not stored. */
  unreferencedBlobs: number;
}

function corrupt(message: string, details?: Record<string, unknown>): DomainError {
  return DomainError.validation(
    ProjectImportErrors.CORRUPT_PROJECT_ARCHIVE,
    `The project archive is damaged: ${message}`,
    details,
  );
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/** The manifest fields an import reads, each checked; the export-time summary is informative only. */
type ImportedManifest = Omit<ProjectArchiveManifest, 'summary'>;

const isIsoTime = (value: unknown): value is string =>
  typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value));

function readManifest(bytes: Uint8Array | undefined): ImportedManifest {
  const manifest = bytes ? parseJson(bytes) : undefined;
  if (!isObject(manifest) || manifest.format !== PROJECT_ARCHIVE_FORMAT) {
    throw DomainError.validation(
      ProjectImportErrors.NOT_A_PROJECT_ARCHIVE,
      `This zip is not a diyml project export (no ${MANIFEST_ENTRY} of format "${PROJECT_ARCHIVE_FORMAT}"): export one with POST /v1/projects/{projectId}/export.`,
    );
  }
  if (manifest.version !== PROJECT_ARCHIVE_VERSION) {
    throw DomainError.validation(
      ProjectImportErrors.UNSUPPORTED_PROJECT_ARCHIVE_VERSION,
      `The archive is of version ${JSON.stringify(manifest.version)}; this installation reads version ${PROJECT_ARCHIVE_VERSION}: update it, or export from a matching one.`,
      { version: manifest.version, supported: [PROJECT_ARCHIVE_VERSION] },
    );
  }
  const project = manifest.project;
  if (!isObject(project) || typeof project.id !== 'string' || !isUuid(project.id) || typeof project.name !== 'string') {
    throw corrupt(`${MANIFEST_ENTRY} does not name the project (id, name, type).`);
  }
  if (!PROJECT_TYPES.includes(project.type as ProjectType)) {
    throw corrupt(
      `the project is of type ${JSON.stringify(project.type)}; this installation has ${PROJECT_TYPES.join(', ')} projects.`,
    );
  }
  if (typeof manifest.events !== 'number' || !isStringList(manifest.blobs) || !isStringList(manifest.missingBlobs)) {
    throw corrupt(`${MANIFEST_ENTRY} does not count its events and list its blobs.`);
  }
  if (!isIsoTime(manifest.exportedAt)) {
    throw corrupt(`${MANIFEST_ENTRY} does not say when it was exported (exportedAt, an ISO 8601 time).`);
  }
  return {
    format: PROJECT_ARCHIVE_FORMAT,
    version: PROJECT_ARCHIVE_VERSION,
    exportedAt: manifest.exportedAt,
    project: { id: project.id, name: project.name, type: project.type as ProjectType },
    events: manifest.events,
    blobs: manifest.blobs,
    missingBlobs: manifest.missingBlobs,
  };
}

/** The lines of an entry's text, as they stream: refused unless it is UTF-8 throughout. */
async function* linesOf(stream: Readable, path: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const decode = (chunk?: Uint8Array) => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw corrupt(`${path} is not UTF-8 text.`, { path });
    }
  };
  let rest = '';
  for await (const chunk of stream) {
    const lines = (rest + decode(chunk as Buffer)).split('\n');
    rest = lines.pop()!;
    yield* lines;
  }
  rest += decode();
  if (rest !== '') yield rest;
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Checks one event line; the checks that need all events are in finishEvents. */
function readEvent(line: string, number: number, projectId: string): ArchivedEvent {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    throw corrupt(`event ${number} is not JSON.`, { event: number });
  }
  if (
    !isObject(event) ||
    typeof event.stream !== 'string' ||
    typeof event.type !== 'string' ||
    typeof event.v !== 'number' ||
    !Number.isInteger(event.v) ||
    event.v < 1 ||
    !isObject(event.data) ||
    typeof event.at !== 'string' ||
    !ISO_TIME.test(event.at)
  ) {
    throw corrupt(`event ${number} is not an event (stream, type, v, data, at).`, { event: number });
  }
  if (!STREAM_PATTERN.test(event.stream) || FOREIGN_STREAM.test(event.stream) || FOREIGN_TYPES.has(event.type)) {
    throw corrupt(`event ${number} (${event.type} in ${event.stream}) is not an event a project can have.`, {
      event: number,
    });
  }
  // A newer installation's event: its data may differ from what this one checks, and is refused in finishEvents.
  if ((NEWEST_EVENT_VERSIONS.get(event.type) ?? 0) >= event.v) {
    if (event.data.projectId !== projectId)
      throw corrupt(`event ${number} is of another project than ${projectId}.`, { event: number });
    if (event.type === 'ProjectDeleted') throw corrupt('the project was deleted.', { event: number });
  }
  return { stream: event.stream, type: event.type, v: event.v, data: event.data, at: event.at };
}

function finishEvents(events: ArchivedEvent[], manifest: ImportedManifest): void {
  const unreadable = unreadableEvents(events);
  if (unreadable.length > 0) {
    throw DomainError.unprocessable(
      ProjectImportErrors.UNKNOWN_EVENT_VERSIONS,
      `The archive holds events this installation does not know (${unreadable.slice(0, 5).join(', ')}${unreadable.length > 5 ? ', …' : ''}): ` +
        'it was exported by a newer diyml. Update this installation to that version or later, then import the archive again; nothing was imported.',
      { unknownEvents: unreadable.slice(0, 50) },
    );
  }
  if (events.length !== manifest.events) {
    throw corrupt(`it holds ${events.length} events; its manifest counts ${manifest.events}.`);
  }
  const projectId = manifest.project.id;
  const first = events.find((event) => event.stream === `project-${projectId}`);
  if (first?.type !== 'ProjectCreated') throw corrupt("the project's stream does not begin with its creation.");
  // The projections read a project's training configuration from these events: one without it cannot be imported.
  const unconfigured = events.findIndex(
    (event) =>
      (event.type === 'ProjectCreated' || event.type === 'TrainingConfigured') &&
      !(isObject(event.data.trainingConfig) && isObject(event.data.trainingConfig.augmentation)),
  );
  if (unconfigured >= 0) {
    throw corrupt(`event ${unconfigured + 1} (${events[unconfigured].type}) has no training configuration.`, {
      event: unconfigured + 1,
    });
  }
}

/**
 * Reads and checks a project archive's manifest and events, before anything is written: the manifest is ours and
 * of a version this installation reads, every event is well-formed and of this project (in its own streams, never
 * a user's), and every blob an event references is in the archive. Events are read line by line as they inflate;
 * blobs are only listed here (readBlobs streams them). 400 NOT_A_PROJECT_ARCHIVE, UNSUPPORTED_PROJECT_ARCHIVE_VERSION,
 * CORRUPT_PROJECT_ARCHIVE or INCOMPLETE_PROJECT_ARCHIVE, 422 UNKNOWN_EVENT_VERSIONS otherwise.
 */
export async function readProjectArchive(zip: ZipArchive): Promise<ProjectArchive> {
  let manifestEntry: ZipEntry | undefined;
  const parts = new Map<string, ZipEntry>();
  const blobNames = new Set<string>();
  for await (const entry of zip.entries()) {
    if (entry.name === MANIFEST_ENTRY) {
      if (manifestEntry) throw corrupt(`it holds ${MANIFEST_ENTRY} twice.`);
      manifestEntry = entry;
    } else if (EVENTS_ENTRY_PATTERN.test(entry.name)) {
      if (parts.has(entry.name)) throw corrupt(`it holds ${entry.name} twice.`, { path: entry.name });
      parts.set(entry.name, entry);
    } else {
      const sha256 = BLOB_ENTRY_PATTERN.exec(entry.name)?.[1];
      if (sha256) blobNames.add(sha256);
    }
  }
  const manifest = readManifest(manifestEntry ? await bytesOf(await manifestEntry.open()) : undefined);
  if (parts.size === 0) throw corrupt('it holds no events (events/000001.jsonl).');
  const events: ArchivedEvent[] = [];
  for (let part = 1; part <= parts.size; part += 1) {
    const entry = parts.get(eventsEntry(part));
    if (!entry) throw corrupt(`${eventsEntry(part)} is missing.`);
    for await (const line of linesOf(await entry.open(), entry.name)) {
      if (line !== '') events.push(readEvent(line, events.length + 1, manifest.project.id));
    }
  }
  finishEvents(events, manifest);
  // Every referenced blob must come with the archive, even one the exporting installation had lost: an event
  // must never reach bytes of this installation that its importer did not bring.
  const required = requiredBlobs(events);
  const absent = [...required].filter((sha256) => !blobNames.has(sha256));
  if (absent.length) {
    throw DomainError.validation(
      ProjectImportErrors.INCOMPLETE_PROJECT_ARCHIVE,
      `The archive lacks ${absent.length} blob(s) its events reference (images, models or manifests)` +
        (manifest.missingBlobs.length
          ? ': the exporting installation did not have them (see missingBlobs in its manifest).'
          : ': export the project again.'),
      { missingBlobs: absent.slice(0, 20) },
    );
  }
  const unreferencedBlobs = [...blobNames].filter((sha256) => !required.has(sha256)).length;
  return { manifest, events, requiredBlobs: required, unreferencedBlobs };
}

/** Where readBlobs hands the blobs over. */
export interface BlobSink {
  /** A blob that may be JSON naming ids (a manifest: its first byte is `{`), whole, checked against its name. */
  whole(sha256: string, bytes: Buffer): Promise<void>;
  /**
   * Any other blob (images, models, videos), as it inflates: to be stored only if its bytes hash to `sha256`
   * (BlobStore.putStream with that sha256, whose BLOB_HASH_MISMATCH readBlobs reports as a damaged archive).
   */
  streamed(sha256: string, content: AsyncIterable<Uint8Array>): Promise<void>;
}

/**
 * Streams the blobs the events need out of the archive, one at a time: a blob whose bytes do not hash to its name
 * is refused (400 CORRUPT_PROJECT_ARCHIVE) and not stored. Only blobs that may be JSON are held in memory (the
 * import rewrites the ids they name); the rest pass through. Blobs no event needs are passed over. Resolves with
 * how many blobs were taken.
 */
export async function readBlobs(zip: ZipArchive, required: ReadonlySet<string>, sink: BlobSink): Promise<number> {
  const taken = new Set<string>();
  for await (const entry of zip.entries()) {
    const sha256 = BLOB_ENTRY_PATTERN.exec(entry.name)?.[1];
    if (!sha256 || !required.has(sha256) || taken.has(sha256)) continue;
    const mismatch = () => corrupt(`${entry.name} does not hold the bytes its name says.`, { path: entry.name });
    const stream = await entry.open();
    try {
      const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      const first = await chunks.next();
      const head = first.done ? Buffer.alloc(0) : first.value;
      const all = (async function* () {
        if (!first.done) yield head;
        for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
      })();
      if (head.length === 0 || mayBeJsonBlob(head[0])) {
        const bytes = await bytesOf(Readable.from(all));
        if (createHash('sha256').update(bytes).digest('hex') !== sha256) throw mismatch();
        await sink.whole(sha256, bytes);
      } else {
        await sink.streamed(sha256, all).catch((error: unknown) => {
          throw isDomainError(error, BLOB_HASH_MISMATCH) ? mismatch() : error;
        });
      }
    } finally {
      stream.destroy();
    }
    taken.add(sha256);
  }
  return taken.size;
}
