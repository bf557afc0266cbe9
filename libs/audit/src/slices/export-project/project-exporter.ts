import { Injectable } from '@nestjs/common';
import type { Writable } from 'node:stream';
import { BlobStore } from '@diyml/blobs';
import { Clock, EVENT_LOOP_SLICE_MS, EventLoopSlices, Settings } from '@diyml/core';
import { EventStore } from '@diyml/event-store';
import { PROJECT_HISTORY, ProjectAccess, type ProjectHistoryEntry, type ProjectView } from '@diyml/projects';
import { ProjectionRunner, ReadStore } from '@diyml/read-store';
import { WHOLE_PROJECT_READS } from '../../whole-project-reads.js';
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
import { crc32Of, ZipWriter } from './zip-writer.js';

/** Blobs up to this size are read whole; larger ones (videos, big models) stream, twice: for their CRC, then into the zip. */
const BLOB_READ_WHOLE_BYTES = 8 * 1024 * 1024;

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

  /**
   * Everything but the blobs' bytes, which `write` reads one at a time. 404 for a project that is not the user's.
   * `signal` (the request's client left): dropped from the queue, or stopped at its next slice.
   */
  async collect(projectId: string, userId: string, signal?: AbortSignal): Promise<ProjectContent> {
    const project = await this.access.getOwned(projectId, userId);
    // One whole-project read at a time, asOf snapshots included (WHOLE_PROJECT_READS).
    return WHOLE_PROJECT_READS.run(() => this.collectOwned(project, signal), signal);
  }

  private async collectOwned(project: ProjectView, signal: AbortSignal | undefined): Promise<ProjectContent> {
    const projectId = project.id;
    // The history index names the streams: let it catch up with everything written before this request.
    const head = await this.events.headPosition();
    await this.projections.waitFor(head, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
    const entries = await this.readStore.collection<ProjectHistoryEntry>(PROJECT_HISTORY).findAll({ projectId });
    // The embedded event store answers synchronously: without a break, 15,000 images held /health for 1.5 s.
    const slices = new EventLoopSlices(EVENT_LOOP_SLICE_MS, signal);
    const recorded = await WHOLE_PROJECT_READS.eventsUpTo(this.events, projectId, entries, head, slices);
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
    for (const sha256 of [...referenced].sort()) {
      ((await this.blobs.has(sha256)) ? blobs : missingBlobs).push(sha256);
      await slices.breathe();
    }
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
   * Streams the zip into `out` (ZIP64 past 4 GiB or 65,535 entries), waiting whenever `out` asks to: memory holds
   * one part of the events, or one blob up to BLOB_READ_WHOLE_BYTES, at a time, whatever the size of the project or
   * of its blobs. Ends `out` when done; rejects if `out` closes first.
   */
  async write({ manifest, events }: ProjectContent, out: Writable): Promise<void> {
    const zip = new ZipWriter(out);
    const encoder = new TextEncoder();
    await zip.add(MANIFEST_ENTRY, encoder.encode(JSON.stringify(manifest, null, 2)), 'deflate');
    let part = 0;
    let lines = '';
    const slices = new EventLoopSlices();
    for (const event of events) {
      await slices.breathe();
      lines += `${JSON.stringify(event)}\n`;
      if (lines.length >= EVENTS_PART_BYTES) {
        await zip.add(eventsEntry((part += 1)), encoder.encode(lines), 'deflate');
        lines = '';
      }
    }
    if (lines) await zip.add(eventsEntry((part += 1)), encoder.encode(lines), 'deflate');
    for (const sha256 of manifest.blobs) {
      const { bytes, stream } = await this.blobs.getStream(sha256);
      if (bytes <= BLOB_READ_WHOLE_BYTES) {
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        await zip.add(blobEntry(sha256), Buffer.concat(chunks), 'store');
        continue;
      }
      const crc = await crc32Of(stream);
      const content = (await this.blobs.getStream(sha256)).stream;
      try {
        await zip.addStream(blobEntry(sha256), { size: bytes, crc }, content);
      } finally {
        content.destroy();
      }
    }
    await zip.end();
  }
}
