import {
  type CallHandler,
  createParamDecorator,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import multer from 'multer';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainError, Settings } from '@diyml/core';
import { afterRemoving, type TemporaryFile, TemporaryFileStorage, UploadedFile, UploadLimits } from '@diyml/datasets';

/** The multipart field of the archive. */
export const ARCHIVE_FIELD = 'archive';

/** Where uploaded project archives wait while they are imported: DATA_DIR/imports. */
export function temporaryArchiveDirectory(settings: Settings): string {
  return join(settings.DATA_DIR, 'imports');
}

export function archiveTooLarge(maxBytes: number): DomainError {
  return new DomainError(
    'too-large',
    'FILE_TOO_LARGE',
    `The archive is over IMPORT_MAX_ARCHIVE_BYTES (${maxBytes} bytes).`,
    { maxBytes },
  );
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

type ArchiveRequest = Request & { uploadedArchive?: UploadedFile };

/**
 * Receives a project archive of up to IMPORT_MAX_ARCHIVE_BYTES into a temporary file under DATA_DIR/imports
 * (multer, on busboy; 413 FILE_TOO_LARGE past it), for `@ReceivedArchive()`; removes it when the request is over
 * unless the handler handed it over. A declared Content-Length over the limit is refused before a byte is read.
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
      storage: new TemporaryFileStorage(directory, {
        maxBytes,
        tooLarge: () => archiveTooLarge(maxBytes),
        extension: '.zip',
      }),
      limits: { files: 1, fields: 5, fieldSize: 64 * 1024, parts: 6 },
      defParamCharset: 'utf8',
    }).single(ARCHIVE_FIELD);
    await new Promise<void>((resolve, reject) =>
      upload(request, response, (error?: unknown) => (error ? reject(multipartError(error)) : resolve())),
    );
    const file = request.file as TemporaryFile | undefined;
    const archive = file ? new UploadedFile(file.path, file.size, file.originalname) : undefined;
    request.uploadedArchive = archive;
    return afterRemoving(next.handle(), async () => archive?.removeUnlessHandedOver());
  }
}

/** The archive ArchiveUploadInterceptor received, or undefined when the request carried none. */
export const ReceivedArchive = createParamDecorator(
  (_: unknown, context: ExecutionContext): UploadedFile | undefined =>
    context.switchToHttp().getRequest<ArchiveRequest>().uploadedArchive,
);
