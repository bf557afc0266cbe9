import {
  type CallHandler,
  createParamDecorator,
  type ExecutionContext,
  Injectable,
  mixin,
  type NestInterceptor,
  type Type,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import multer, { type StorageEngine } from 'multer';
import { mkdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { fileNameError, Settings } from '@diyml/core';
import { DomainError } from '@diyml/core/pure';
import { DatasetErrors } from '../domain/dataset-errors.js';
import {
  afterRemoving,
  type TemporaryFile,
  TemporaryFileStorage,
  temporaryUploadDirectory,
  UploadedFile,
} from './temporary-files.js';
import { UploadLimits } from './upload-limits.js';

/** A file of a multipart request read into memory (images); `buffer` is null when the file was over the per-file limit. */
export interface ReceivedFile {
  filename: string;
  size: number;
  buffer: Buffer | null;
}

type StoredFile = Express.Multer.File & { overLimit?: boolean };

const REQUEST_BYTES = Symbol('diyml:multipartBytes');

/** Text fields of a multipart request, and the bytes of each. */
const MAX_FIELDS = 20;
const MAX_FIELD_BYTES = 64 * 1024;

/**
 * Keeps files in memory up to `maxFileBytes` each: a larger file is read to its end but not kept, so it is
 * rejected on its own while the other files of the request go on. The whole request is cut off (413) past
 * `maxRequestBytes`.
 */
class CappedMemoryStorage implements StorageEngine {
  constructor(
    private readonly maxFileBytes: number,
    private readonly maxRequestBytes: number,
  ) {}

  _handleFile(
    request: Request,
    file: Express.Multer.File,
    callback: (error?: unknown, info?: Partial<StoredFile>) => void,
  ): void {
    const counted = request as Request & { [REQUEST_BYTES]?: number };
    const stream = file.stream as Readable;
    const badName = fileNameError(file.originalname);
    if (badName) {
      stream.resume();
      callback(badName);
      return;
    }
    let chunks: Buffer[] = [];
    let size = 0;
    let overLimit = false;
    let done = false;
    const finish = (error?: unknown, info?: Partial<StoredFile>) => {
      if (done) return;
      done = true;
      callback(error, info);
    };
    stream.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      counted[REQUEST_BYTES] = (counted[REQUEST_BYTES] ?? 0) + chunk.length;
      if (counted[REQUEST_BYTES] > this.maxRequestBytes) {
        chunks = [];
        stream.resume();
        finish(requestTooLarge(this.maxRequestBytes));
        return;
      }
      if (overLimit) return;
      if (size > this.maxFileBytes) {
        overLimit = true;
        chunks = [];
        return;
      }
      chunks.push(chunk);
    });
    stream.on('error', (error) => finish(error));
    stream.on('end', () =>
      finish(undefined, { size, buffer: overLimit ? undefined : Buffer.concat(chunks), overLimit }),
    );
  }

  _removeFile(_request: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    (file as Partial<StoredFile>).buffer = undefined;
    callback(null);
  }
}

function requestTooLarge(maxRequestBytes: number): DomainError {
  return new DomainError(
    'too-large',
    DatasetErrors.REQUEST_TOO_LARGE,
    `The request carries more than ${maxRequestBytes} bytes of files: send them in several requests.`,
    { maxRequestBytes },
  );
}

function toDomainError(error: unknown, field: string, maxFiles: number): DomainError {
  if (error instanceof DomainError) return error;
  const code = (error as { code?: string }).code;
  const tooMany = () =>
    new DomainError(
      'too-large',
      DatasetErrors.TOO_MANY_FILES,
      `At most ${maxFiles} file(s) per request: send the rest in another request.`,
      {
        maxFiles,
      },
    );
  switch (code) {
    case 'LIMIT_FILE_COUNT':
      return tooMany();
    case 'LIMIT_PART_COUNT':
      return new DomainError(
        'too-large',
        DatasetErrors.TOO_MANY_PARTS,
        `At most ${maxFiles + MAX_FIELDS} parts per request: send the files in several requests.`,
        { maxParts: maxFiles + MAX_FIELDS },
      );
    case 'LIMIT_FIELD_COUNT':
      return new DomainError(
        'too-large',
        DatasetErrors.TOO_MANY_FIELDS,
        `At most ${MAX_FIELDS} text fields per request: send each field once.`,
        { maxFields: MAX_FIELDS },
      );
    case 'LIMIT_FIELD_VALUE':
    case 'LIMIT_FIELD_KEY':
      return new DomainError(
        'too-large',
        DatasetErrors.FIELD_TOO_LARGE,
        `A text field's name or value is too long (values up to ${MAX_FIELD_BYTES} bytes): send a shorter one.`,
        { maxFieldBytes: MAX_FIELD_BYTES },
      );
    case 'LIMIT_UNEXPECTED_FILE':
      if ((error as { field?: string }).field === field) return tooMany();
      return DomainError.validation('UNEXPECTED_FILE_FIELD', `Files go in the multipart field "${field}".`, {
        field: (error as { field?: string }).field,
      });
    default:
      return DomainError.validation(
        DatasetErrors.INVALID_MULTIPART,
        `The multipart body could not be read: ${(error as Error).message ?? String(error)}.`,
      );
  }
}

export interface MultipartOptions {
  field: string;
  /**
   * Which limits apply: image uploads (in memory, `@ReceivedFiles()`), or one dataset or model archive or one video
   * (VIDEO_MAX_BYTES), written to a temporary file under DATA_DIR/uploads (`@ReceivedUpload()`).
   */
  kind: 'images' | 'archive' | 'video';
}

type MultipartRequest = Request & { receivedFiles?: ReceivedFile[]; receivedUpload?: UploadedFile };

/**
 * Reads a multipart request's files of one field, with the configured limits: images into memory
 * (`request.receivedFiles`); an archive or a video to a temporary file (`request.receivedUpload`), never whole into
 * memory, removed before the answer goes out.
 */
export function MultipartFiles({ field, kind }: MultipartOptions): Type<NestInterceptor> {
  @Injectable()
  class MultipartFilesInterceptor implements NestInterceptor {
    constructor(
      private readonly limits: UploadLimits,
      private readonly settings: Settings,
    ) {}

    async intercept(context: ExecutionContext, next: CallHandler) {
      const request = context.switchToHttp().getRequest<MultipartRequest>();
      const response = context.switchToHttp().getResponse<Response>();
      const images = kind === 'images';
      const maxFiles = images ? this.limits.UPLOAD_MAX_FILES : 1;
      const single = kind === 'video' ? this.limits.VIDEO_MAX_BYTES : this.limits.IMPORT_MAX_ARCHIVE_BYTES;
      const maxFileBytes = images ? this.limits.UPLOAD_MAX_FILE_BYTES : single;
      // A video a little over its limit is read and dropped, so the handler names it (413 VIDEO_TOO_LARGE).
      const maxRequestBytes = images
        ? this.limits.UPLOAD_MAX_REQUEST_BYTES
        : kind === 'video'
          ? single + 1024 * 1024
          : single;
      const declared = Number(request.headers['content-length']);
      // Multipart framing adds a little to the files themselves.
      if (Number.isFinite(declared) && declared > maxRequestBytes + 1024 * 1024) throw requestTooLarge(maxRequestBytes);
      let storage: StorageEngine = new CappedMemoryStorage(maxFileBytes, maxRequestBytes);
      if (!images) {
        const directory = temporaryUploadDirectory(this.settings);
        await mkdir(directory, { recursive: true });
        storage = new TemporaryFileStorage(directory, {
          maxBytes: maxRequestBytes,
          tooLarge: () => requestTooLarge(maxRequestBytes),
          keepBytes: maxFileBytes,
        });
      }
      const upload = multer({
        storage,
        limits: { files: maxFiles, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, parts: maxFiles + MAX_FIELDS },
        defParamCharset: 'utf8',
      } as multer.Options).array(field, maxFiles);
      await new Promise<void>((resolve, reject) =>
        upload(request, response, (error?: unknown) =>
          error ? reject(toDomainError(error, field, maxFiles)) : resolve(),
        ),
      );
      if (!images) {
        const file = (request.files as TemporaryFile[] | undefined)?.[0];
        const received = file && new UploadedFile(file.path, file.size, file.originalname, file.overLimit);
        request.receivedUpload = received;
        return afterRemoving(next.handle(), async () => received?.removeUnlessHandedOver());
      }
      const files = (request.files as StoredFile[] | undefined) ?? [];
      request.receivedFiles = files.map((file) => ({
        filename: file.originalname,
        size: file.size,
        buffer: file.overLimit ? null : (file.buffer ?? Buffer.alloc(0)),
      }));
      return next.handle();
    }
  }
  return mixin(MultipartFilesInterceptor);
}

/** The images read by MultipartFiles({ kind: 'images' }). */
export const ReceivedFiles = createParamDecorator(
  (_: unknown, context: ExecutionContext): ReceivedFile[] =>
    context.switchToHttp().getRequest<MultipartRequest>().receivedFiles ?? [],
);

/** The archive or video MultipartFiles({ kind: 'archive' | 'video' }) wrote to a temporary file; undefined without one. */
export const ReceivedUpload = createParamDecorator(
  (_: unknown, context: ExecutionContext): UploadedFile | undefined =>
    context.switchToHttp().getRequest<MultipartRequest>().receivedUpload,
);
