import { randomUUID } from 'node:crypto';
import { closeSync, fdatasync, fsyncSync, futimesSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * One file of a process's local write-ahead journal, under DATA_DIR/journal: what the process acknowledged but
 * has not written to the event log yet. Named `<kind>.<host>.<pid>.<id>.journal`, so the processes sharing a
 * data directory each write their own, and a process starting on this host takes over the files of one that
 * is gone (killed, crashed) and writes what they hold. `id` stays the same when a file is taken over: event
 * ids derived from it make the writes of its content idempotent. When the journal folder is shared between
 * hosts (a volume that outlives a replaced container or pod, whose new host name never comes back), the files of
 * another host are taken over once they have not been touched for ORPHAN_AFTER_MS: a live process touches its
 * open files every HEARTBEAT_MS, so only a host that is gone leaves them that old.
 */
export class JournalSegment {
  private bytes = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    readonly id: string,
    private readonly fd: number,
  ) {
    OPEN_HERE.add(path);
    LIVE.add(this);
    heartbeat ??= setInterval(touchLiveSegments, HEARTBEAT_MS).unref();
  }

  /** Marks the file as still owned (see ORPHAN_AFTER_MS). */
  touch(now = new Date()): void {
    futimesSync(this.fd, now, now);
  }

  /** A new, empty segment of this process (synchronous: callers create one between two appends). */
  static create(directory: string, kind: string): JournalSegment {
    mkdirSync(directory, { recursive: true });
    const id = randomUUID();
    const path = join(directory, segmentName(kind, process.pid, id));
    const segment = new JournalSegment(path, id, openSync(path, 'ax'));
    // The new name itself on the disk, or a power cut could lose a file whose content was flushed.
    const folder = openSync(directory, 'r');
    try {
      fsyncSync(folder);
    } finally {
      closeSync(folder);
    }
    return segment;
  }

  get size(): number {
    return this.bytes;
  }

  /**
   * Appends at once (a write(2) to the page cache, microseconds): once it returns, the bytes survive the
   * process being killed, though not a power cut (see `sync`).
   */
  append(bytes: Uint8Array): void {
    let written = 0;
    while (written < bytes.byteLength) written += writeSync(this.fd, bytes, written);
    this.bytes += bytes.byteLength;
  }

  /** Flushes what was appended to the disk (fdatasync): it then survives a power cut too. */
  sync(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => fdatasync(this.fd, (error) => (error ? reject(error) : resolve())));
  }

  /** Deletes the file: everything in it is in the event log. */
  async remove(): Promise<void> {
    this.close();
    await rm(this.path, { force: true });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    OPEN_HERE.delete(this.path);
    LIVE.delete(this);
    if (LIVE.size === 0 && heartbeat) {
      clearInterval(heartbeat);
      heartbeat = undefined;
    }
    closeSync(this.fd);
  }
}

/** A segment of a process that is gone, taken over by this one: its content, and the file to delete once written. */
export interface OrphanedSegment {
  id: string;
  content: Buffer;
  remove(): Promise<void>;
}

/** Segments this process has open (tests run several apps in one process: those are not orphans). */
const OPEN_HERE = new Set<string>();
/** How often a process touches the segments it has open, so that other hosts see they are owned. */
export const HEARTBEAT_MS = 30_000;
/** A segment of another host untouched this long is an orphan: ten missed heartbeats. */
export const ORPHAN_AFTER_MS = 10 * HEARTBEAT_MS;
const LIVE = new Set<JournalSegment>();
let heartbeat: NodeJS.Timeout | undefined;

function touchLiveSegments(): void {
  const now = new Date();
  for (const segment of LIVE) {
    try {
      segment.touch(now);
    } catch {
      // Closed meanwhile, or the folder is gone: appending will report it.
    }
  }
}
const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '-') || 'host';

function segmentName(kind: string, pid: number, id: string): string {
  return `${kind}.${HOST}.${pid}.${id}.journal`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the file was last written or touched at least `ms` ago (false when it is gone). */
async function untouchedFor(path: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs >= ms;
  } catch {
    return false;
  }
}

/**
 * Takes over the segments of `kind` left on this host by processes that are gone (or by an earlier life of
 * this process id, e.g. pid 1 of a restarted container), and those of other hosts left untouched for
 * ORPHAN_AFTER_MS (see JournalSegment), renaming each to this process first so that two
 * processes starting together never both take one. Oldest first is not promised: callers' writes are
 * idempotent and order-free.
 */
export async function takeOverOrphans(directory: string, kind: string): Promise<OrphanedSegment[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    // No folder, or something else in its place: no journal to take over (writing one will report the problem).
    if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return [];
    throw error;
  }
  const orphans: OrphanedSegment[] = [];
  for (const name of names) {
    const parts = name.split('.');
    if (parts.length !== 5 || parts[0] !== kind || parts[4] !== 'journal') continue;
    const pid = Number(parts[2]);
    const id = parts[3];
    const path = join(directory, name);
    if (OPEN_HERE.has(path)) continue;
    if (parts[1] === HOST ? pid !== process.pid && isAlive(pid) : !(await untouchedFor(path, ORPHAN_AFTER_MS)))
      continue;
    const claimed = join(directory, segmentName(kind, process.pid, id));
    try {
      if (claimed !== path) await rename(path, claimed);
    } catch (error) {
      // Another process starting now took it first.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    OPEN_HERE.add(claimed);
    orphans.push({
      id,
      content: await readFile(claimed),
      remove: async () => {
        OPEN_HERE.delete(claimed);
        await rm(claimed, { force: true });
      },
    });
  }
  return orphans;
}
