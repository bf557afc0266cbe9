import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  BlobStore,
  blobNotFound,
  type BlobReadStream,
  type BlobSource,
  checkExpectedSha256,
  HashingCounter,
  isSha256,
  type PutStreamOptions,
  sha256Of,
  type StoredBlob,
} from '../blob-store.port.js';

/** A temporary blob file this old is no write in flight any more: a crash left it. */
export const TEMPORARY_FILE_GRACE_MS = 60_000;

export interface FsBlobStoreOptions {
  /** Directory holding the blobs, e.g. DATA_DIR/blobs. */
  readonly directory: string;
  /**
   * fsync each blob before it is renamed into place, so an accepted upload survives a power cut.
   * Default true; tests and benchmarks of other parts may turn it off.
   */
  readonly fsync?: boolean;
}

/**
 * The embedded blob store: one file per blob at `<directory>/<ab>/<sha256>`. A blob is written to a
 * temporary file in the same directory and renamed into place, so readers never see half a blob.
 */
export class FsBlobStore extends BlobStore {
  private readonly directory: string;
  private readonly fsync: boolean;
  private readonly createdDirectories = new Set<string>();
  private leftoverSweeper?: NodeJS.Timeout;
  private sweep: Promise<void> | null = null;

  constructor(options: FsBlobStoreOptions) {
    super();
    this.directory = options.directory;
    this.fsync = options.fsync ?? true;
  }

  async put(bytes: Uint8Array): Promise<StoredBlob> {
    const sha256 = sha256Of(bytes);
    const folder = join(this.directory, sha256.slice(0, 2));
    if (!this.createdDirectories.has(folder)) {
      await mkdir(folder, { recursive: true });
      this.createdDirectories.add(folder);
    }
    // No existence check first: writing the same bytes again and renaming over the old file is just as
    // correct (same content, atomic rename) and saves a system call on the common path, a new blob.
    const temporary = join(folder, `.tmp-${sha256}-${randomBytes(6).toString('hex')}`);
    try {
      await writeFile(temporary, bytes, { flag: 'wx', flush: this.fsync });
      await rename(temporary, this.pathOf(sha256));
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return { sha256, bytes: bytes.byteLength };
  }

  /** Written to a temporary file at the top of the directory as it is hashed, then renamed to its address. */
  async putStream(source: BlobSource, options: PutStreamOptions = {}): Promise<StoredBlob> {
    await mkdir(this.directory, { recursive: true });
    const temporary = join(this.directory, `.tmp-${randomBytes(8).toString('hex')}`);
    const counter = new HashingCounter();
    try {
      await pipeline(counter.pass(source), createWriteStream(temporary, { flags: 'wx', flush: this.fsync }));
      const sha256 = counter.digest();
      checkExpectedSha256(options.sha256, sha256);
      const folder = join(this.directory, sha256.slice(0, 2));
      await mkdir(folder, { recursive: true });
      await rename(temporary, this.pathOf(sha256));
      return { sha256, bytes: counter.bytes };
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async getStream(sha256: string): Promise<BlobReadStream> {
    if (!isSha256(sha256)) throw blobNotFound(sha256);
    // Opened before answering: a blob deleted afterwards still streams whole from the open file.
    const handle = await open(this.pathOf(sha256), 'r').catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? blobNotFound(sha256) : error;
    });
    try {
      const { size } = await handle.stat();
      // A buffer no larger than the blob: the default 64 KiB per stream made exporting 10,000 thumbnails-sized
      // images allocate 640 MiB.
      return {
        bytes: size,
        stream: handle.createReadStream({ highWaterMark: Math.min(Math.max(size, 1), 64 * 1024) }),
      };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async get(sha256: string): Promise<Buffer> {
    if (!isSha256(sha256)) throw blobNotFound(sha256);
    try {
      return await readFile(this.pathOf(sha256));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw blobNotFound(sha256);
      throw error;
    }
  }

  async has(sha256: string): Promise<boolean> {
    return isSha256(sha256) && exists(this.pathOf(sha256));
  }

  async delete(sha256: string): Promise<void> {
    if (!isSha256(sha256)) return;
    try {
      await unlink(this.pathOf(sha256));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  /**
   * Deletes the temporary files of writes a crash interrupted (`.tmp-*` older than `olderThanMs`: younger ones
   * may be a write in flight in another process sharing the directory). Returns how many were deleted.
   */
  async removeLeftovers(olderThanMs = TEMPORARY_FILE_GRACE_MS): Promise<number> {
    let folders: string[];
    try {
      folders = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    const before = Date.now() - olderThanMs;
    let removed = 0;
    const removeIfOld = async (path: string) => {
      const stats = await stat(path).catch(() => undefined);
      if (!stats?.isFile() || stats.mtimeMs > before) return;
      await rm(path, { force: true });
      removed += 1;
    };
    for (const folder of folders) {
      // Streamed writes wait at the top of the directory, since their address is known only at their end.
      if (folder.startsWith('.tmp-')) await removeIfOld(join(this.directory, folder));
      if (!/^[0-9a-f]{2}$/.test(folder)) continue;
      for (const name of await readdir(join(this.directory, folder))) {
        if (name.startsWith('.tmp-')) await removeIfOld(join(this.directory, folder, name));
      }
    }
    return removed;
  }

  /**
   * Runs `removeLeftovers` every `intervalMs` until `close`: a crash shortly before this process started left
   * files too young to delete at start, and nothing else would ever delete them.
   */
  sweepLeftoversEvery(
    intervalMs: number,
    report: (outcome: { removed: number } | { error: unknown }) => void,
    olderThanMs = TEMPORARY_FILE_GRACE_MS,
  ): void {
    clearInterval(this.leftoverSweeper);
    this.leftoverSweeper = setInterval(() => {
      // One sweep at a time: a slow one (a loaded machine) is not joined by the next, which would count its files again.
      if (this.sweep) return;
      this.sweep = this.removeLeftovers(olderThanMs)
        .then(
          (removed) => void (removed > 0 && report({ removed })),
          (error: unknown) => report({ error }),
        )
        .finally(() => (this.sweep = null));
    }, intervalMs).unref();
  }

  /** Stops the sweeps; a sweep under way finishes first, so nothing is removed after close. */
  async close(): Promise<void> {
    clearInterval(this.leftoverSweeper);
    await this.sweep;
  }

  private pathOf(sha256: string): string {
    return join(this.directory, sha256.slice(0, 2), sha256);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
