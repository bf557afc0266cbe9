import { sha256Of } from '../../../../blobs/src/index.js';
import { DomainError, type InflatedEntry, isUuid } from '../../../../core/src/index.js';
import {
  type ArchivedEvent,
  BLOB_ENTRY_PATTERN,
  EVENTS_ENTRY,
  MANIFEST_ENTRY,
  PROJECT_ARCHIVE_FORMAT,
  PROJECT_ARCHIVE_VERSION,
  type ProjectArchiveManifest,
  referencedBlobs,
} from '../export-project/project-archive.js';

export const ProjectImportErrors = {
  ARCHIVE_REQUIRED: 'ARCHIVE_REQUIRED',
  NOT_A_PROJECT_ARCHIVE: 'NOT_A_PROJECT_ARCHIVE',
  UNSUPPORTED_PROJECT_ARCHIVE_VERSION: 'UNSUPPORTED_PROJECT_ARCHIVE_VERSION',
  CORRUPT_PROJECT_ARCHIVE: 'CORRUPT_PROJECT_ARCHIVE',
  INCOMPLETE_PROJECT_ARCHIVE: 'INCOMPLETE_PROJECT_ARCHIVE',
} as const;

/** The entries an import inflates; anything else in the zip is counted and left alone. */
export const PROJECT_ARCHIVE_ENTRIES = `^(${MANIFEST_ENTRY.replace('.', '\\.')}|${EVENTS_ENTRY.replace('.', '\\.')}|blobs/[0-9a-f]{64})$`;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** `<category>-<uuid>`, or `<category>-<uuid>-<sha256>` (content claims). */
const STREAM_PATTERN = new RegExp(`^[a-z]+(?:-[a-z]+)*-${UUID}(?:-[0-9a-f]{64})?$`);
/** Streams of users are never part of a project, whatever an archive says. */
const FOREIGN_STREAM = /^(user|username)-/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export interface ProjectArchive {
  manifest: ProjectArchiveManifest;
  events: ArchivedEvent[];
  blobs: Map<string, Uint8Array>;
}

function corrupt(message: string, details?: Record<string, unknown>): DomainError {
  return DomainError.validation(ProjectImportErrors.CORRUPT_PROJECT_ARCHIVE, `The project archive is damaged: ${message}`, details);
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');

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
  if (!isObject(project) || typeof project.id !== 'string' || !isUuid(project.id) || typeof project.name !== 'string' || typeof project.type !== 'string') {
    throw corrupt(`${MANIFEST_ENTRY} does not name the project (id, name, type).`);
  }
  if (typeof manifest.events !== 'number' || !isStringList(manifest.blobs) || !isStringList(manifest.missingBlobs)) {
    throw corrupt(`${MANIFEST_ENTRY} does not count its events and list its blobs.`);
  }
  return manifest as unknown as ProjectArchiveManifest;
}

function readEvents(bytes: Uint8Array | undefined, manifest: ProjectArchiveManifest): ArchivedEvent[] {
  if (!bytes) throw corrupt(`${EVENTS_ENTRY} is missing.`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw corrupt(`${EVENTS_ENTRY} is not UTF-8 text.`);
  }
  const projectId = manifest.project.id;
  const events: ArchivedEvent[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    if (lines[index] === '') continue;
    let event: unknown;
    try {
      event = JSON.parse(lines[index]);
    } catch {
      throw corrupt(`line ${index + 1} of ${EVENTS_ENTRY} is not JSON.`, { line: index + 1 });
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
      throw corrupt(`line ${index + 1} of ${EVENTS_ENTRY} is not an event (stream, type, v, data, at).`, { line: index + 1 });
    }
    if (!STREAM_PATTERN.test(event.stream) || FOREIGN_STREAM.test(event.stream)) {
      throw corrupt(`line ${index + 1} names a stream a project cannot have: ${event.stream}.`, { line: index + 1 });
    }
    if (event.data.projectId !== projectId) {
      throw corrupt(`line ${index + 1} is an event of another project than ${projectId}.`, { line: index + 1 });
    }
    if (event.type === 'ProjectDeleted') throw corrupt('the project was deleted.', { line: index + 1 });
    events.push(event as unknown as ArchivedEvent);
  }
  if (events.length !== manifest.events) {
    throw corrupt(`${EVENTS_ENTRY} holds ${events.length} events; the manifest counts ${manifest.events}.`);
  }
  const first = events[0];
  if (first?.type !== 'ProjectCreated' || first.stream !== `project-${projectId}`) {
    throw corrupt('the first event is not the creation of the project.');
  }
  return events;
}

/**
 * Reads and checks an inflated project archive before anything is written: the manifest is ours and of a version
 * this installation reads, every event is well-formed and of this project (in its own streams, never a user's),
 * every blob's bytes hash to its name, and every blob an event references is there (or was already missing where
 * it was exported). 400 NOT_A_PROJECT_ARCHIVE, UNSUPPORTED_PROJECT_ARCHIVE_VERSION, CORRUPT_PROJECT_ARCHIVE or
 * INCOMPLETE_PROJECT_ARCHIVE otherwise.
 */
export function readProjectArchive(entries: readonly InflatedEntry[]): ProjectArchive {
  const byPath = new Map(entries.map((entry) => [entry.path, entry.bytes ?? undefined]));
  const manifest = readManifest(byPath.get(MANIFEST_ENTRY));
  const events = readEvents(byPath.get(EVENTS_ENTRY), manifest);
  const blobs = new Map<string, Uint8Array>();
  for (const [path, bytes] of byPath) {
    const sha256 = BLOB_ENTRY_PATTERN.exec(path)?.[1];
    if (!sha256 || !bytes) continue;
    if (sha256Of(bytes) !== sha256) throw corrupt(`${path} does not hold the bytes its name says.`, { path });
    blobs.set(sha256, bytes);
  }
  const excused = new Set(manifest.missingBlobs);
  const referenced = new Set<string>();
  for (const event of events) referencedBlobs(event.data, referenced);
  const absent = [...referenced].filter((sha256) => !blobs.has(sha256) && !excused.has(sha256));
  if (absent.length) {
    throw DomainError.validation(
      ProjectImportErrors.INCOMPLETE_PROJECT_ARCHIVE,
      `The archive lacks ${absent.length} blob(s) its events reference (images, models or manifests): export the project again.`,
      { missingBlobs: absent.slice(0, 20) },
    );
  }
  return { manifest, events, blobs };
}
