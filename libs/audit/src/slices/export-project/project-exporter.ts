import { Injectable } from '@nestjs/common';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import type { Writable } from 'node:stream';
import { BlobStore } from '../../../../blobs/src/index.js';
import { Clock, Settings } from '../../../../core/src/index.js';
import { EventStore, type RecordedEvent } from '../../../../event-store/src/index.js';
import { PROJECT_HISTORY, ProjectAccess, type ProjectHistoryEntry } from '../../../../projects/src/index.js';
import { ProjectionRunner, ReadStore } from '../../../../read-store/src/index.js';
import {
  type ArchivedEvent,
  blobEntry,
  EVENTS_ENTRY,
  MANIFEST_ENTRY,
  PROJECT_ARCHIVE_FORMAT,
  PROJECT_ARCHIVE_VERSION,
  type ProjectArchiveManifest,
  referencedBlobs,
  summarize,
} from './project-archive.js';

/** Fixed entry times (as model archives have): the clock of the export is in the manifest, not in every entry. */
const ENTRY_TIME = new Date('1980-01-01T00:00:00Z');
/** Events are written to the zip in batches of about this many bytes of JSON lines. */
const EVENT_BATCH_BYTES = 256 * 1024;

/** Resolves when `out` takes more; rejects once it is closed (a client that went away, a sink that refused). */
function untilDrained(out: Writable): Promise<void> {
  if (out.destroyed) return Promise.reject(out.errored ?? new Error('the archive stream was closed'));
  if (!out.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const drained = () => {
      out.off('close', closed);
      resolve();
    };
    const closed = () => {
      out.off('drain', drained);
      reject(out.errored ?? new Error('the archive stream was closed'));
    };
    out.once('drain', drained);
    out.once('close', closed);
  });
}

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
    const referenced = new Set<string>();
    for (const event of events) referencedBlobs(event.data, referenced);
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
   * Streams the zip into `out`, waiting whenever `out` asks to: memory holds one blob and one batch of event
   * lines at a time, whatever the size of the project. Ends `out` when done.
   */
  async write({ manifest, events }: ProjectContent, out: Writable): Promise<void> {
    const zip = new Zip((error, chunk, final) => {
      if (error) out.destroy(error);
      else {
        out.write(chunk);
        if (final) out.end();
      }
    });
    const drained = () => untilDrained(out);
    const encoder = new TextEncoder();

    const manifestEntry = new ZipDeflate(MANIFEST_ENTRY, { level: 6 });
    manifestEntry.mtime = ENTRY_TIME;
    zip.add(manifestEntry);
    manifestEntry.push(encoder.encode(JSON.stringify(manifest, null, 2)), true);

    const eventsEntry = new ZipDeflate(EVENTS_ENTRY, { level: 6 });
    eventsEntry.mtime = ENTRY_TIME;
    zip.add(eventsEntry);
    let batch = '';
    for (const event of events) {
      batch += `${JSON.stringify(event)}\n`;
      if (batch.length >= EVENT_BATCH_BYTES) {
        eventsEntry.push(encoder.encode(batch));
        batch = '';
        await drained();
      }
    }
    eventsEntry.push(encoder.encode(batch), true);

    for (const sha256 of manifest.blobs) {
      await drained();
      const entry = new ZipPassThrough(blobEntry(sha256));
      entry.mtime = ENTRY_TIME;
      zip.add(entry);
      entry.push(new Uint8Array(await this.blobs.get(sha256)), true);
    }
    zip.end();
    await drained();
  }
}
