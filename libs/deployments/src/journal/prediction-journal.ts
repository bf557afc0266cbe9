import { JournalSegment, takeOverOrphans } from './journal-segment.js';

const KIND = 'stored-predictions';
/** A segment past this size is sealed and a new one started; a sealed one is deleted once all it holds is written. */
const SEGMENT_BYTES = 16 * 1024 * 1024;

/** What a stored prediction needs to be written later: its command as JSON (dates as ISO strings) and its image. */
export interface JournalRecord {
  header: Record<string, unknown>;
  image: Buffer;
}

/** Where a record is kept until it is written; `release` once it is in the event log. */
export interface JournalEntry {
  release(): void;
}

interface Held {
  outstanding: number;
  sealed: boolean;
  remove(): Promise<void>;
}

/**
 * The write-ahead journal of stored predictions: a prediction answered with a stored prediction id is first in
 * a local file, flushed to the disk (fdatasync, one for every record that arrived meanwhile: group commit), so
 * a crash between the answer and the event log write loses nothing; the next start writes it.
 * Record layout: u32 header length, header JSON, u32 image length, image bytes (big-endian lengths). A record
 * cut short by a crash during its write was never acknowledged and is skipped.
 */
export class PredictionJournal {
  private current?: { segment: JournalSegment; held: Held };
  private appended = 0;
  private synced = 0;
  private syncing: Promise<void> | null = null;
  /** Segments with appends not flushed yet. */
  private readonly dirty = new Set<JournalSegment>();
  private syncWaiters: { target: number; resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(private readonly directory: string) {}

  /** Appends the record and resolves once it is on the disk. */
  async append(record: JournalRecord): Promise<JournalEntry> {
    const { segment, held } = this.segment();
    segment.append(encode(record));
    this.dirty.add(segment);
    held.outstanding += 1;
    const target = ++this.appended;
    try {
      await new Promise<void>((resolve, reject) => {
        this.syncWaiters.push({ target, resolve, reject });
        this.syncing ??= this.syncAll().finally(() => (this.syncing = null));
      });
    } catch (error) {
      this.release(held);
      throw error;
    }
    return { release: () => this.release(held) };
  }

  /** The records of processes that are gone, each with an entry to release once it is written. */
  async takeOver(): Promise<{ record: JournalRecord; entry: JournalEntry }[]> {
    const taken: { record: JournalRecord; entry: JournalEntry }[] = [];
    for (const orphan of await takeOverOrphans(this.directory, KIND)) {
      const records = decode(orphan.content);
      const held: Held = { outstanding: records.length, sealed: true, remove: () => orphan.remove() };
      if (records.length === 0) await orphan.remove();
      for (const record of records) taken.push({ record, entry: { release: () => this.release(held) } });
    }
    return taken;
  }

  /** Deletes the current segment if everything in it is written (graceful shutdown); else leaves it for the next start. */
  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (!current) return;
    current.held.sealed = true;
    if (current.held.outstanding === 0) await current.held.remove();
    else current.segment.close();
  }

  private segment(): { segment: JournalSegment; held: Held } {
    if (this.current && this.current.segment.size >= SEGMENT_BYTES) {
      this.current.held.sealed = true;
      if (this.current.held.outstanding === 0) void this.current.held.remove();
      this.current = undefined;
    }
    if (!this.current) {
      const segment = JournalSegment.create(this.directory, KIND);
      this.current = { segment, held: { outstanding: 0, sealed: false, remove: () => segment.remove() } };
    }
    return this.current;
  }

  private release(held: Held): void {
    held.outstanding -= 1;
    if (held.sealed && held.outstanding === 0) void held.remove();
  }

  /** Flushes until every append so far is on the disk; appends arriving during a flush share the next one. */
  private async syncAll(): Promise<void> {
    while (this.synced < this.appended) {
      const target = this.appended;
      const segments = [...this.dirty];
      this.dirty.clear();
      try {
        await Promise.all(segments.map((segment) => segment.sync()));
      } catch (error) {
        const failed = this.syncWaiters.filter((waiter) => waiter.target <= target);
        this.syncWaiters = this.syncWaiters.filter((waiter) => waiter.target > target);
        this.synced = target;
        for (const waiter of failed) waiter.reject(error);
        continue;
      }
      this.synced = target;
      this.syncWaiters = this.syncWaiters.filter((waiter) =>
        waiter.target <= target ? (waiter.resolve(), false) : true,
      );
    }
  }
}

export function encode({ header, image }: JournalRecord): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const record = Buffer.alloc(8 + json.length + image.length);
  record.writeUInt32BE(json.length, 0);
  json.copy(record, 4);
  record.writeUInt32BE(image.length, 4 + json.length);
  image.copy(record, 8 + json.length);
  return record;
}

export function decode(content: Buffer): JournalRecord[] {
  const records: JournalRecord[] = [];
  let offset = 0;
  while (offset + 4 <= content.length) {
    const headerLength = content.readUInt32BE(offset);
    const imageAt = offset + 4 + headerLength;
    if (imageAt + 4 > content.length) break;
    const imageLength = content.readUInt32BE(imageAt);
    const end = imageAt + 4 + imageLength;
    if (end > content.length) break;
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(content.toString('utf8', offset + 4, imageAt)) as Record<string, unknown>;
    } catch {
      break;
    }
    records.push({ header, image: Buffer.from(content.subarray(imageAt + 4, end)) });
    offset = end;
  }
  return records;
}
