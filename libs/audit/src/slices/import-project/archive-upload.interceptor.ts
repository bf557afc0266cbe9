import {
  type CallHandler,
  createParamDecorator,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import multer, { type StorageEngine } from 'multer';
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { catchError, from, mergeMap } from 'rxjs';
import { DomainError, fileNameError, Settings } from '@diyml/core';
import { UploadLimits } from '@diyml/datasets';

/** The multipart field of the archive. */
export const ARCHIVE_FIELD = 'archive';
/** A temporary file this old is no upload in flight: a crash left it (an import reading it holds it open). */
const LEFTOVER_GRACE_MS = 60_000;

/** Where uploaded project archives wait while they are imported: DATA_DIR/imports. */
export function temporaryArchiveDirectory(settings: Settings): string {
  return join(settings.DATA_DIR, 'imports');
}

/** Removes the temporary archives a crash left behind; returns how many. */
export async function removeLeftoverArchives(directory: string, olderThanMs = LEFTOVER_GRACE_MS): Promise<number> {
  const names = await readdir(directory).catch(() => [] as string[]);
  const before = Date.now() - olderThanMs;
  let removed = 0;
  for (const name of names) {
    const path = join(directory, name);
    const stats = await stat(path).catch(() => undefined);
    if (!stats?.isFile() || stats.mtimeMs > before) continue;
    await rm(path, { force: true });
    removed += 1;
  }
  return removed;
}

/** An archive uploaded to a temporary file, removed when the request ends unless handed over. */
export class UploadedArchive {
  private handedOver = false;

  constructor(
    readonly path: string,
    readonly size: number,
    readonly filename: string,
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

export function archiveTooLarge(maxBytes: number): DomainError {
  return new DomainError(
    'too-large',
    'FILE_TOO_LARGE',
    `The archive is over IMPORT_MAX_ARCHIVE_BYTES (${maxBytes} bytes).`,
    { maxBytes },
  );
}

type ArchiveFile = Express.Multer.File & { path: string };

/**
 * Writes the one file of a multipart request to a temporary file, never into memory; a file name no one could
 * store or show is refused first (400 INVALID_FILENAME). Past `maxBytes` it stops
 * writing, removes the file and refuses the request (413 FILE_TOO_LARGE); on any error, an aborted upload included,
 * the file is removed (multer calls _removeFile for every file it had started).
 */
class TemporaryFileStorage implements StorageEngine {
  private readonly writers = new Map<string, WriteStream>();

  constructor(
    private readonly directory: string,
    private readonly maxBytes: number,
  ) {}

  _handleFile(
    _request: Request,
    file: Express.Multer.File,
    callback: (error?: unknown, info?: Partial<ArchiveFile>) => void,
  ): void {
    const badName = fileNameError(file.originalname);
    if (badName) {
      (file.stream as Readable).resume();
      callback(badName);
      return;
    }
    const path = join(this.directory, `${randomUUID()}.zip`);
    // Known to multer at once, so an abort removes it even before it is complete.
    (file as ArchiveFile).path = path;
    const stream = file.stream as Readable;
    const out = createWriteStream(path, { flags: 'wx' });
    this.writers.set(path, out);
    let size = 0;
    let done = false;
    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      if (!error) {
        this.writers.delete(path);
        callback(undefined, { path, size });
        return;
      }
      stream.unpipe(out);
      stream.resume();
      this.remove(path).then(
        () => callback(error),
        () => callback(error),
      );
    };
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.maxBytes) finish(archiveTooLarge(this.maxBytes));
    });
    stream.on('error', finish);
    out.on('error', finish);
    out.on('finish', () => finish());
    stream.pipe(out);
  }

  _removeFile(_request: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    this.remove((file as ArchiveFile).path).then(
      () => callback(null),
      (error: Error) => callback(error),
    );
  }

  private async remove(path: string): Promise<void> {
    this.writers.get(path)?.destroy();
    this.writers.delete(path);
    await rm(path, { force: true });
  }
}

function multipartError(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  const code = (error as { code?: string }).code;
  if (code === 'LIMIT_FILE_COUNT')
    return new DomainError('too-large', 'TOO_MANY_FILES', 'Send one archive per import.', { maxFiles: 1 });
  if (code === 'LIMIT_UNEXPECTED_FILE')
    return DomainError.validation(
      'UNEXPECTED_FILE_FIELD',
      `The archive goes in the multipart field "${ARCHIVE_FIELD}".`,
    );
  return DomainError.validation(
    'INVALID_MULTIPART',
    `The multipart body could not be read: ${(error as Error).message ?? String(error)}.`,
  );
}

type ArchiveRequest = Request & { uploadedArchive?: UploadedArchive };

/**
 * Receives a project archive of up to IMPORT_MAX_ARCHIVE_BYTES into a temporary file under DATA_DIR/imports
 * (multer, on busboy), for `@ReceivedArchive()`; removes it when the request is over unless the handler handed it
 * over. A declared Content-Length over the limit is refused before a byte is read.
 */
@Injectable()
export class ArchiveUploadInterceptor implements NestInterceptor {
  constructor(
    private readonly limits: UploadLimits,
    private readonly settings: Settings,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler) {
    const request = context.switchToHttp().getRequest<ArchiveRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    const maxBytes = this.limits.IMPORT_MAX_ARCHIVE_BYTES;
    const declared = Number(request.headers['content-length']);
    // Multipart framing and the name field add a little to the archive itself.
    if (Number.isFinite(declared) && declared > maxBytes + 1024 * 1024) throw archiveTooLarge(maxBytes);
    const directory = temporaryArchiveDirectory(this.settings);
    await mkdir(directory, { recursive: true });
    const upload = multer({
      storage: new TemporaryFileStorage(directory, maxBytes),
      limits: { files: 1, fields: 5, fieldSize: 64 * 1024, parts: 6 },
      defParamCharset: 'utf8',
    }).single(ARCHIVE_FIELD);
    await new Promise<void>((resolve, reject) =>
      upload(request, response, (error?: unknown) => (error ? reject(multipartError(error)) : resolve())),
    );
    const file = request.file as ArchiveFile | undefined;
    const archive = file ? new UploadedArchive(file.path, file.size, file.originalname) : undefined;
    request.uploadedArchive = archive;
    // Removed before the answer goes out, so a client that sees it sees the file gone.
    const removed = async () => archive?.removeUnlessHandedOver();
    return next.handle().pipe(
      mergeMap((value: unknown) => from(removed().then(() => value))),
      catchError((error: unknown) =>
        from(
          removed().then(() => {
            throw error;
          }),
        ),
      ),
    );
  }
}

/** The archive ArchiveUploadInterceptor received, or undefined when the request carried none. */
export const ReceivedArchive = createParamDecorator(
  (_: unknown, context: ExecutionContext): UploadedArchive | undefined =>
    context.switchToHttp().getRequest<ArchiveRequest>().uploadedArchive,
);
