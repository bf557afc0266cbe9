import type { ApiOperationOptions } from '@nestjs/swagger';
import type { Request } from 'express';
import { requireFileName } from '@diyml/core/pure';
import { CustomVisionError } from '../domain/custom-vision-error.js';

/** One part of a multipart body. */
export interface FormPart {
  name: string;
  filename: string | undefined;
  data: Buffer;
}

/** Custom Vision accepts at most 64 images per batch. */
export const MAX_IMAGES_PER_BATCH = 64;

function tooLarge(limit: number): CustomVisionError {
  return CustomVisionError.badRequest('BadRequestImageSizeBytes', `The request carries more than ${limit} bytes.`);
}

/** An image fetched from a URL for a prediction, within the prediction's own size limit. */
export function withinPredictionLimit(bytes: Buffer, limit: number): Buffer {
  if (bytes.length > limit) {
    throw CustomVisionError.badRequest(
      'BadRequestImageSizeBytes',
      `The image at the URL has more than ${limit} bytes (PREDICT_MAX_IMAGE_BYTES).`,
    );
  }
  return bytes;
}

/** Reads the whole body, up to `limit` bytes (a body parser may already have read it). */
export async function readBody(request: Request, limit: number): Promise<Buffer> {
  if (Buffer.isBuffer(request.body)) return request.body;
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    throw tooLarge(limit);
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    request.on('end', () => (size > limit ? reject(tooLarge(limit)) : resolve(Buffer.concat(chunks))));
    request.on('error', reject);
  });
}

/**
 * Parses a multipart/form-data body. The SDKs send an image as a part without a filename (the Node form-data
 * package names none for a Buffer), which multer drops, hence this small parser of a buffered body.
 */
export function parseMultipart(body: Buffer, contentType: string): FormPart[] {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!match) throw CustomVisionError.badRequest('BadRequestImageStream', 'The multipart body has no boundary.');
  const delimiter = Buffer.from(`--${(match[1] ?? match[2]).trim()}`);
  const parts: FormPart[] = [];
  let position = body.indexOf(delimiter);
  if (position < 0)
    throw CustomVisionError.badRequest('BadRequestImageStream', 'The multipart body could not be read.');
  for (;;) {
    position += delimiter.length;
    // "--" after a delimiter closes the body.
    if (body[position] === 0x2d && body[position + 1] === 0x2d) break;
    const headersEnd = body.indexOf('\r\n\r\n', position);
    const next = body.indexOf(delimiter, position);
    if (headersEnd < 0 || next < 0 || headersEnd > next) {
      throw CustomVisionError.badRequest('BadRequestImageStream', 'The multipart body could not be read.');
    }
    const headers = body.subarray(position, headersEnd).toString('utf8');
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? '';
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    // The part's data ends with the CRLF before the next delimiter.
    parts.push({ name, filename, data: body.subarray(headersEnd + 4, next - 2) });
    position = next;
  }
  return parts;
}

/**
 * The images of a request: the parts of a multipart body (any field name; the SDKs use `imageData`), or a
 * raw body of type image/* or application/octet-stream, as Custom Vision accepts both. A part's file name no one
 * could store or show is refused (400 INVALID_FILENAME, answered as Custom Vision's BadRequest).
 */
export async function readImages(request: Request, limit: number): Promise<{ filename: string; data: Buffer }[]> {
  const type = (request.headers['content-type'] ?? '').toLowerCase();
  const body = await readBody(request, limit);
  if (type.startsWith('multipart/form-data')) {
    const parts = parseMultipart(body, request.headers['content-type'] ?? '');
    // Files, and the SDKs' filename-less imageData parts; other text fields are not images.
    const images = parts.filter((part) => part.filename !== undefined || part.name === 'imageData');
    for (const image of images) if (image.filename) requireFileName(image.filename);
    return images.map((part, index) => ({ filename: part.filename || `image-${index + 1}`, data: part.data }));
  }
  if (/^(image\/|application\/octet-stream)/.test(type) || (type === '' && body.length > 0)) {
    return [{ filename: 'image-1', data: body }];
  }
  throw new CustomVisionError(
    415,
    'UnsupportedMediaType',
    'Send the image as multipart/form-data (field imageData) or as the raw body.',
  );
}

/** The body of an image route (ApiOperation's requestBody): a multipart part imageData, as the SDKs send it, or the raw bytes. */
export const IMAGE_DATA_REQUEST_BODY: ApiOperationOptions['requestBody'] = {
  required: true,
  description:
    'The image: a multipart part imageData (parts with a file name are taken too), or the raw body (application/octet-stream or image/*).',
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['imageData'],
        properties: { imageData: { type: 'string', format: 'binary', description: 'The image file.' } },
      },
    },
    'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
  },
};
