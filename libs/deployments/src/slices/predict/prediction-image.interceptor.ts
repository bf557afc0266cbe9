import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import multer from 'multer';
import { fileNameError } from '@diyml/core';
import { DomainError } from '@diyml/core/pure';
import { DeploymentErrors } from '../../domain/deployment-errors.js';
import { DeploymentSettings } from '../../deployment-settings.js';
import type { PredictRequest } from './deployment-key.guard.js';

const RAW_TYPES = /^(image\/[a-z0-9.+-]+|application\/octet-stream)$/;

function tooLarge(limit: number): DomainError {
  return new DomainError('too-large', DeploymentErrors.IMAGE_TOO_LARGE, `The image has more than ${limit} bytes.`, {
    maxBytes: limit,
  });
}

/**
 * Reads the image of a prediction into `request.predictionImage`: a raw body of type image/* (or
 * application/octet-stream), or the multipart field `image`. Anything else is 415; a body over
 * PREDICT_MAX_IMAGE_BYTES is 413 (judged by Content-Length when declared, else while reading); a multipart file
 * name no one could store or show is 400 INVALID_FILENAME.
 */
@Injectable()
export class PredictionImageInterceptor implements NestInterceptor {
  constructor(private readonly settings: DeploymentSettings) {}

  async intercept(context: ExecutionContext, next: CallHandler) {
    const request = context.switchToHttp().getRequest<PredictRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const limit = this.settings.PREDICT_MAX_IMAGE_BYTES;
    if (type === 'multipart/form-data') {
      request.predictionImage = await readMultipartImage(request, response, limit);
    } else if (RAW_TYPES.test(type)) {
      request.predictionImage = await readRawBody(request, limit);
    } else {
      request.resume();
      throw new DomainError(
        'unsupported-media-type',
        DeploymentErrors.UNSUPPORTED_MEDIA_TYPE,
        `Send the image as the body with an image/* Content-Type, or as the multipart field "image"${type ? `, not ${type}` : ''}.`,
      );
    }
    if (request.predictionImage.length === 0) {
      throw DomainError.validation(DeploymentErrors.IMAGE_REQUIRED, 'The request carries no image.');
    }
    return next.handle();
  }
}

async function readRawBody(request: PredictRequest, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    throw tooLarge(limit);
  }
  // A body parser may already have read it (e.g. when the app is given a raw parser).
  if (Buffer.isBuffer(request.body)) {
    if (request.body.length > limit) throw tooLarge(limit);
    return request.body;
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    request.on('end', () => (over ? reject(tooLarge(limit)) : resolve(Buffer.concat(chunks))));
    request.on('error', reject);
  });
}

async function readMultipartImage(request: PredictRequest, response: Response, limit: number): Promise<Buffer> {
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: limit, files: 1, fields: 10, fieldSize: 64 * 1024 },
    fileFilter: (_request, file, accept) => {
      const badName = fileNameError(file.originalname);
      if (badName) accept(badName);
      else accept(null, true);
    },
  }).single('image');
  await new Promise<void>((resolve, reject) =>
    upload(request, response, (error?: unknown) => {
      if (!error) return resolve();
      if (error instanceof DomainError) return reject(error);
      const code = (error as { code?: string }).code;
      if (code === 'LIMIT_FILE_SIZE') return reject(tooLarge(limit));
      if (code === 'LIMIT_UNEXPECTED_FILE' || code === 'LIMIT_FILE_COUNT') {
        return reject(
          DomainError.validation('UNEXPECTED_FILE_FIELD', 'Send one image, in the multipart field "image".'),
        );
      }
      reject(
        DomainError.validation(
          'INVALID_MULTIPART',
          `The multipart body could not be read: ${(error as Error).message}.`,
        ),
      );
    }),
  );
  const file = (request as PredictRequest & { file?: Express.Multer.File }).file;
  if (!file)
    throw DomainError.validation(DeploymentErrors.IMAGE_REQUIRED, 'Send the image in the multipart field "image".');
  return file.buffer;
}
