import { Injectable } from '@nestjs/common';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { BlobStore } from '../../../../blobs/src/index.js';
import { Clock, Settings } from '../../../../core/src/index.js';
import { EventStore, type RecordedEvent } from '../../../../event-store/src/index.js';
import { PROJECT_HISTORY, ProjectAccess, type ProjectHistoryEntry } from '../../../../projects/src/index.js';
import { ProjectionRunner, ReadStore } from '../../../../read-store/src/index.js';
import {
  type ArchivedEvent,
  blobEntry,
  EVENTS_PART_BYTES,
  eventsEntry,
  MANIFEST_ENTRY,
  PROJECT_ARCHIVE_FORMAT,
  PROJECT_ARCHIVE_VERSION,
  type ProjectArchiveManifest,
  requiredBlobs,
  summarize,
} from './project-archive.js';

export interface ProjectContent {
  manifest: ProjectArchiveManifest;
  events: ArchivedEvent[];
}

/**
 * Reads a project out of the log and the blob store, and writes it as one zip (see project-archive.ts). The
 * project's streams are those its history index names (every event whose data carries the project id); their
 * events are read from the event store itself, unredacted and in their newest shape.
 */
@Injectable()
export class ProjectExporter {
  constructor(
    private readonly access: ProjectAccess,
    private readonly events: EventStore,
    private readonly readStore: ReadStore,
    private readonly blobs: BlobStore,
    private readonly projections: ProjectionRunner,
    private readonly clock: Clock,
    private readonly settings: Settings,
  ) {}

  /** Everything but the blobs' bytes, which `write` reads one at a time. 404 for a project that is not the user's. */
  async collect(projectId: string, userId: string): Promise<ProjectContent> {
    const project = await this.access.getOwned(projectId, userId);
    // The history index names the streams: let it catch up with everything written before this request.
    await this.projections.waitFor(await this.events.headPosition(), this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
    const entries = await this.readStore.collection<ProjectHistoryEntry>(PROJECT_HISTORY).findAll({ projectId });
    const streams = [...new Set(entries.map((entry) => entry.stream))];
    const recorded: RecordedEvent[] = [];
    for (const stream of streams) recorded.push(...(await this.events.readStream(stream)));
    recorded.sort((a, b) => a.position - b.position);
    const events: ArchivedEvent[] = recorded.map((event) => ({
      stream: event.streamId,
      type: event.type,
      v: event.v,
      data: event.data as Record<string, unknown>,
      at: event.metadata.at,
    }));
    const referenced = requiredBlobs(events);
    const blobs: string[] = [];
    const missingBlobs: string[] = [];
    for (const sha256 of [...referenced].sort()) (await this.blobs.has(sha256) ? blobs : missingBlobs).push(sha256);
    return {
      manifest: {
        format: PROJECT_ARCHIVE_FORMAT,
        version: PROJECT_ARCHIVE_VERSION,
        exportedAt: this.clock.now().toISOString(),
        project: { id: project.id, name: project.name, type: project.type },
        summary: summarize(events),
        events: events.length,
        blobs,
        missingBlobs,
      },
      events,
    };
  }

  /**
   * Streams the zip into `out` with yazl (ZIP64 wherever sizes, offsets or the entry count need it), waiting
   * whenever `out` asks to: memory holds one blob or one part of the events at a time, whatever the size of the
   * project. Each blob is read from the store only when its turn comes. Ends `out` when done; rejects if `out`
   * closes first or a blob cannot be read.
   */
  async write({ manifest, events }: ProjectContent, out: Writable): Promise<void> {
    const zip = new ZipFile();
    // Entry times are the export's: nothing else in the archive is dated by the file system.
    const mtime = new Date(manifest.exportedAt);
    const entry = { mtime, forceDosTimestamp: true };
    // A blob that cannot be read ends the archive stream with its error (the client sees a broken download).
    zip.on('error', (error: Error) => (zip.outputStream as Readable).destroy(error));
    // yazl asks for an entry's stream when its turn comes; an error given back ends the zip (its 'error' event).
    const lazy = (read: () => Promise<Uint8Array>) => (callback: (error: Error | null, stream: NodeJS.ReadableStream) => void) => {
      read().then(
        (bytes) => callback(null, Readable.from([bytes], { objectMode: false })),
        (error: Error) => (callback as (error: Error) => void)(error),
      );
    };
    zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2)), MANIFEST_ENTRY, { ...entry, compress: true });
    for (const [part, range] of eventParts(events).entries()) {
      const text = () => Promise.resolve(Buffer.from(events.slice(range.start, range.end).map((event) => `${JSON.stringify(event)}\n`).join('')));
      zip.addReadStreamLazy(eventsEntry(part + 1), { ...entry, compress: true }, lazy(text));
    }
    // Images and models do not shrink: stored as they are.
    for (const sha256 of manifest.blobs) zip.addReadStreamLazy(blobEntry(sha256), { ...entry, compress: false }, lazy(() => this.blobs.get(sha256)));
    zip.end({ forceZip64Format: false, comment: '' });
    await pipeline(zip.outputStream, out);
  }
}

/** The events of each part of about EVENTS_PART_BYTES (its text is made when the part is written, not before). */
function eventParts(events: readonly ArchivedEvent[]): { start: number; end: number }[] {
  const parts: { start: number; end: number }[] = [];
  let start = 0;
  let length = 0;
  events.forEach((event, index) => {
    length += JSON.stringify(event).length + 1;
    if (length >= EVENTS_PART_BYTES) {
      parts.push({ start, end: index + 1 });
      start = index + 1;
      length = 0;
    }
  });
  if (start < events.length) parts.push({ start, end: events.length });
  return parts;
}
