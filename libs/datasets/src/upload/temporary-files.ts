import { Inject, Injectable, Logger, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { catchError, from, mergeMap, type Observable } from 'rxjs';
import { fileNameError, READ_ONLY_PROCESS, Settings } from '@diyml/core';
import type { DomainError } from '@diyml/core/pure';

/** A temporary file this old is no upload in flight: a crash left it (a reader still holding it open keeps its bytes). */
const LEFTOVER_GRACE_MS = 60_000;

/** Where uploaded archives and videos wait while their request is handled: DATA_DIR/uploads. */
export function temporaryUploadDirectory(settings: Pick<Settings, 'DATA_DIR'>): string {
  return join(settings.DATA_DIR, 'uploads');
}

/**
 * Removes the temporary files a crash left behind in `directory`, and the folders of images an interrupted dataset
 * import was unpacking; returns how many.
 */
export async function removeLeftoverFiles(directory: string, olderThanMs = LEFTOVER_GRACE_MS): Promise<number> {
  const names = await readdir(directory).catch(() => [] as string[]);
  const before = Date.now() - olderThanMs;
  let removed = 0;
  for (const name of names) {
    const path = join(directory, name);
    const stats = await stat(path).catch(() => undefined);
    if (!stats || stats.mtimeMs > before) continue;
    await rm(path, { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

/** At start, removes the uploads a stop left in DATA_DIR/uploads (never in a read-only process beside a live api). */
@Injectable()
export class TemporaryUploadsCleaner implements OnApplicationBootstrap {
  private readonly logger = new Logger(TemporaryUploadsCleaner.name);

  constructor(
    private readonly settings: Settings,
    @Optional() @Inject(READ_ONLY_PROCESS) private readonly readOnly = false,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.readOnly) return;
    const removed = await removeLeftoverFiles(temporaryUploadDirectory(this.settings));
    if (removed) this.logger.warn(`Removed ${removed} temporary upload(s) a stop interrupted.`);
  }
}

/**
 * A file of a multipart request written to a temporary file, removed when the request is over unless handed over.
 * `overLimit`: it passed the size up to which files are kept; it was read to its end but not kept (no file at `path`).
 */
export class UploadedFile {
  private handedOver = false;

  constructor(
    readonly path: string,
    readonly size: number,
    readonly filename: string,
    readonly overLimit = false,
  ) {}

  /** Gives the file to whoever removes it later (a background import): the request no longer does. */
  handOver(): string {
    this.handedOver = true;
    return this.path;
  }

  async removeUnlessHandedOver(): Promise<void> {
    if (!this.handedOver) await rm(this.path, { force: true });
  }
}

export interface TemporaryFileLimits {
  /** Past this many bytes the request is refused with `tooLarge()`, the file removed. */
  maxBytes: number;
  tooLarge: () => DomainError;
  /**
   * Past this many bytes (at most maxBytes) the file is no longer kept: removed, then read on to its end (or to
   * maxBytes) and reported overLimit, so the handler names the refusal. Default: maxBytes.
   */
  keepBytes?: number;
  /** Of the file's name, e.g. '.zip'. */
  extension?: string;
}

/** What multer knows of a file TemporaryFileStorage received. */
export type TemporaryFile = Express.Multer.File & { path: string; overLimit?: boolean };

/**
 * Writes each file of a multipart request to a temporary file as it arrives, never into memory (the socket is paused
 * while the disk catches up, so a few chunks are held at most); a file name no one could store or show is refused first
 * (400 INVALID_FILENAME). Past `maxBytes` it stops writing, removes the file and refuses the request; on any error,
 * an aborted upload included, the file is removed (multer calls _removeFile for every file it had started).
 */
export class TemporaryFileStorage implements StorageEngine {
  private readonly writers = new Map<string, WriteStream>();

  constructor(
    private readonly directory: string,
    private readonly limits: TemporaryFileLimits,
  ) {}

  _handleFile(
    _request: Request,
    file: Express.Multer.File,
    callback: (error?: unknown, info?: Partial<TemporaryFile>) => void,
  ): void {
    const badName = fileNameError(file.originalname);
    if (badName) {
      (file.stream as Readable).resume();
      callback(badName);
      return;
    }
    const { maxBytes, tooLarge, keepBytes = maxBytes, extension = '' } = this.limits;
    const path = join(this.directory, `${randomUUID()}${extension}`);
    // Known to multer at once, so an abort removes it even before it is complete.
    (file as TemporaryFile).path = path;
    const stream = file.stream as Readable;
    const out = createWriteStream(path, { flags: 'wx' });
    this.writers.set(path, out);
    let size = 0;
    let overLimit = false;
    let done = false;
    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      if (!error && !overLimit) {
        this.writers.delete(path);
        callback(undefined, { path, size });
        return;
      }
      stream.unpipe(out);
      stream.resume();
      this.remove(path).then(
        () => callback(error, error ? undefined : { path, size, overLimit }),
        () => callback(error ?? new Error(`The temporary file ${path} could not be removed`)),
      );
    };
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) finish(tooLarge());
      else if (size > keepBytes && !overLimit) {
        overLimit = true;
        stream.unpipe(out);
        stream.resume();
        // Removed again, with any error reported, once the file has been read to its end.
        this.remove(path).catch(() => undefined);
      }
    });
    stream.on('error', finish);
    stream.on('end', () => {
      if (overLimit) finish();
    });
    out.on('error', (error) => {
      if (!overLimit) finish(error);
    });
    out.on('finish', () => finish());
    stream.pipe(out);
  }

  _removeFile(_request: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    this.remove((file as TemporaryFile).path).then(
      () => callback(null),
      (error: Error) => callback(error),
    );
  }

  /** Closes the file's writer (waiting for its open, which could otherwise create the file after the removal), then removes it. */
  private async remove(path: string): Promise<void> {
    const writer = this.writers.get(path);
    this.writers.delete(path);
    if (writer && !writer.closed) {
      await new Promise<void>((resolve) => {
        writer.once('close', () => resolve());
        writer.destroy();
      });
    }
    await rm(path, { force: true });
  }
}

/** The handler's answer, once `remove` (the request's temporary files) is done: a client that sees it sees the files gone. */
export function afterRemoving<T>(answer: Observable<T>, remove: () => Promise<void>): Observable<T> {
  return answer.pipe(
    mergeMap((value) => from(remove().then(() => value))),
    catchError((error: unknown) =>
      from(
        remove().then(() => {
          throw error;
        }),
      ),
    ),
  );
}
