import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ProjectionRunner } from '@diyml/read-store';

/** A list answer as sent: the JSON body and its entity tag. */
export interface SerializedPage {
  body: Buffer;
  /** Weak entity tag of the body (a hash of it), for If-None-Match. */
  etag: string;
}

/** Bytes of bodies kept at most; a page of 50 images is about 25 KB. */
const MAX_CACHED_BYTES = 16 * 1024 * 1024;

/** Filters whose totals are kept at most (a key and a number each). */
const MAX_KEPT_TOTALS = 10_000;

/**
 * Serialized pages of the images list, reused while the read models stay at the same log position. A list page
 * depends only on read models (images, the project's labels), and every change to them is an event: once this
 * process has applied one more event, every kept page is dropped. Read-your-writes holds because a write answers
 * only after this process's projections applied its events, so the next list sees a new position.
 *
 * Only a process that applies the events itself keeps pages: one that follows another process's shared read models
 * learns their position later than their documents change.
 */
@Injectable()
export class ImagesListPages {
  private position = -1;
  private readonly pages = new Map<string, SerializedPage>();
  private bytes = 0;
  /** How many images a filter matches, by filter: paging through a list counts once per position, not per page. */
  private readonly totals = new Map<string, number>();

  constructor(private readonly projections: ProjectionRunner) {}

  /** The page for `key` at the read models' current position, from `render` once per position. */
  async get(key: string, render: () => Promise<unknown>): Promise<SerializedPage> {
    if (!this.projections.projecting) return serialize(await render());
    // Read before rendering: the page then shows at least this position, never less.
    const position = this.projections.currentPosition;
    if (position !== this.position) this.dropAll(position);
    const kept = this.pages.get(key);
    if (kept) return kept;
    const page = serialize(await render());
    // Kept only if no event was applied meanwhile (else the next request renders again).
    if (this.position === position && page.body.length <= MAX_CACHED_BYTES) this.keep(key, page);
    return page;
  }

  /** The number of images matching the filter `key` at the read models' current position, counted once per position. */
  async total(key: string, count: () => Promise<number>): Promise<number> {
    if (!this.projections.projecting) return count();
    const position = this.projections.currentPosition;
    if (position !== this.position) this.dropAll(position);
    const kept = this.totals.get(key);
    if (kept !== undefined) return kept;
    const total = await count();
    if (this.position === position && this.totals.size < MAX_KEPT_TOTALS) this.totals.set(key, total);
    return total;
  }

  private dropAll(position: number): void {
    this.position = position;
    this.pages.clear();
    this.totals.clear();
    this.bytes = 0;
  }

  private keep(key: string, page: SerializedPage): void {
    this.pages.set(key, page);
    this.bytes += page.body.length;
    // Oldest first: a Map iterates in insertion order.
    for (const [oldestKey, oldest] of this.pages) {
      if (this.bytes <= MAX_CACHED_BYTES) break;
      this.pages.delete(oldestKey);
      this.bytes -= oldest.body.length;
    }
  }
}

function serialize(value: unknown): SerializedPage {
  const body = Buffer.from(JSON.stringify(value));
  return { body, etag: `W/"${createHash('sha1').update(body).digest('base64url')}"` };
}
