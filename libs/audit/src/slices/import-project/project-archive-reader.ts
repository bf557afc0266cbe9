import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { sha256Of } from '@diyml/blobs';
import { DomainError, type InflatedEntry, isUuid } from '@diyml/core/pure';
import { USER_EVENT_TYPES } from '@diyml/identity';
import { PROJECT_TYPES, type ProjectType } from '@diyml/projects';
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

export const ProjectImportErrors = {
  ARCHIVE_REQUIRED: 'ARCHIVE_REQUIRED',
  NOT_A_PROJECT_ARCHIVE: 'NOT_A_PROJECT_ARCHIVE',
  UNSUPPORTED_PROJECT_ARCHIVE_VERSION: 'UNSUPPORTED_PROJECT_ARCHIVE_VERSION',
  CORRUPT_PROJECT_ARCHIVE: 'CORRUPT_PROJECT_ARCHIVE',
  INCOMPLETE_PROJECT_ARCHIVE: 'INCOMPLETE_PROJECT_ARCHIVE',
  UNKNOWN_EVENT_VERSIONS: 'UNKNOWN_EVENT_VERSIONS',
} as const;

/** The entries an import inflates; anything else in the zip is counted and left alone. */
export const PROJECT_ARCHIVE_ENTRIES = `^(${MANIFEST_ENTRY.replace('.', '\\.')}|events/\\d{6}\\.jsonl|blobs/[0-9a-f]{64})$`;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** `<category>-<uuid>`, or `<category>-<uuid>-<sha256>` (content claims). */
const STREAM_PATTERN = new RegExp(`^[a-z]+(?:-[a-z]+)*-${UUID}(?:-[0-9a-f]{64})?$`);
/** Users are never part of a project, whatever an archive says: their streams and events are refused. */
const FOREIGN_STREAM = /^(user|username)-/;
const FOREIGN_TYPES = new Set<string>([...USER_EVENT_TYPES, 'UsernameClaimed']);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export interface ProjectArchive {
  manifest: ProjectArchiveManifest;
  events: ArchivedEvent[];
  blobs: Map<string, Uint8Array>;
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

function readManifest(bytes: Uint8Array | undefined): ProjectArchiveManifest {
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
      `the project is of type ${JSON.stringify(project.type)}; this installation has ${PROJECT_TYPES.join(' and ')} projects.`,
    );
  }
  if (typeof manifest.events !== 'number' || !isStringList(manifest.blobs) || !isStringList(manifest.missingBlobs)) {
    throw corrupt(`${MANIFEST_ENTRY} does not count its events and list its blobs.`);
  }
  return manifest as unknown as ProjectArchiveManifest;
}

/** The event lines of `events/000001.jsonl`, `events/000002.jsonl`…, which must be numbered from 1 without gaps. */
function eventLines(byPath: ReadonlyMap<string, Uint8Array | undefined>): string[] {
  const parts = [...byPath.keys()].filter((path) => EVENTS_ENTRY_PATTERN.test(path)).sort();
  if (parts.length === 0) throw corrupt('it holds no events (events/000001.jsonl).');
  const lines: string[] = [];
  parts.forEach((path, index) => {
    if (path !== eventsEntry(index + 1)) throw corrupt(`${eventsEntry(index + 1)} is missing.`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(byPath.get(path));
    } catch {
      throw corrupt(`${path} is not UTF-8 text.`, { path });
    }
    for (const line of text.split('\n')) if (line !== '') lines.push(line);
  });
  return lines;
}

function readEvents(lines: readonly string[], manifest: ProjectArchiveManifest): ArchivedEvent[] {
  const projectId = manifest.project.id;
  const events: ArchivedEvent[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    let event: unknown;
    try {
      event = JSON.parse(lines[index]);
    } catch {
      throw corrupt(`event ${index + 1} is not JSON.`, { event: index + 1 });
    }
    if (
      !isObject(event) ||
      typeof event.stream !== 'string' ||
      typeof event.type !== 'string' ||
      !Number.isInteger(event.v) ||
      (event.v as number) < 1 ||
      !isObject(event.data) ||
      typeof event.at !== 'string' ||
      !ISO_TIME.test(event.at)
    ) {
      throw corrupt(`event ${index + 1} is not an event (stream, type, v, data, at).`, { event: index + 1 });
    }
    if (!STREAM_PATTERN.test(event.stream) || FOREIGN_STREAM.test(event.stream) || FOREIGN_TYPES.has(event.type)) {
      throw corrupt(`event ${index + 1} (${event.type} in ${event.stream}) is not an event a project can have.`, {
        event: index + 1,
      });
    }
    events.push(event as unknown as ArchivedEvent);
    // A newer installation's event: its data may differ from what this one checks, and is refused below.
    if ((NEWEST_EVENT_VERSIONS.get(event.type) ?? 0) < (event.v as number)) continue;
    if (event.data.projectId !== projectId) {
      throw corrupt(`event ${index + 1} is of another project than ${projectId}.`, { event: index + 1 });
    }
    if (event.type === 'ProjectDeleted') throw corrupt('the project was deleted.', { event: index + 1 });
  }
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
  const first = events.find((event) => event.stream === `project-${projectId}`);
  if (first?.type !== 'ProjectCreated') throw corrupt("the project's stream does not begin with its creation.");
  return events;
}

/**
 * Reads and checks an inflated project archive before anything is written: the manifest is ours and of a version
 * this installation reads, every event is well-formed and of this project (in its own streams, never a user's),
 * every blob's bytes hash to its name, and every blob an event references is there. 400 NOT_A_PROJECT_ARCHIVE, UNSUPPORTED_PROJECT_ARCHIVE_VERSION, CORRUPT_PROJECT_ARCHIVE or
 * INCOMPLETE_PROJECT_ARCHIVE otherwise.
 */
export async function readProjectArchive(entries: readonly InflatedEntry[]): Promise<ProjectArchive> {
  const byPath = new Map(entries.map((entry) => [entry.path, entry.bytes ?? undefined]));
  const manifest = readManifest(byPath.get(MANIFEST_ENTRY));
  const events = readEvents(eventLines(byPath), manifest);
  const blobs = new Map<string, Uint8Array>();
  for (const [path, bytes] of byPath) {
    const sha256 = BLOB_ENTRY_PATTERN.exec(path)?.[1];
    if (!sha256 || !bytes) continue;
    // Hashing a gigabyte takes seconds: let other requests through between blobs.
    await yieldToEventLoop();
    if (sha256Of(bytes) !== sha256) throw corrupt(`${path} does not hold the bytes its name says.`, { path });
    blobs.set(sha256, bytes);
  }
  // Every referenced blob must come with the archive, even one the exporting installation had lost: an event
  // must never reach bytes of this installation that its importer did not bring.
  const referenced = requiredBlobs(events);
  const absent = [...referenced].filter((sha256) => !blobs.has(sha256));
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
  return { manifest, events, blobs };
}
