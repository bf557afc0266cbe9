import { Injectable } from '@nestjs/common';
import sharp from 'sharp';
import { BlobStore } from '@diyml/blobs';
import { decodingBudget, decodingToSrgb } from '@diyml/ml/pure';
import { readImageHeader } from '../../images/image-header.js';
import { UploadLimits } from '../../upload/upload-limits.js';
import type { ThumbnailSize } from './thumbnail-query.dto.js';

/** About 2 000 thumbnails of 256 pixels. */
const CACHE_BYTES = 32 * 1024 * 1024;

/**
 * WebP thumbnails made by sharp, kept in a least-recently-used cache keyed by the image's content hash and the
 * size: the same bytes always give the same thumbnail, so a cached one never goes stale.
 */
@Injectable()
export class ImageThumbnails {
  private readonly cache = new Map<string, Buffer>();
  private cachedBytes = 0;

  constructor(
    private readonly blobs: BlobStore,
    private readonly limits: UploadLimits,
  ) {}

  async get(sha256: string, size: ThumbnailSize): Promise<Buffer> {
    const key = `${sha256}-${size}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const bytes = await this.blobs.get(sha256);
    const maxPixels = this.limits.UPLOAD_MAX_PIXELS;
    const header = await readImageHeader(bytes, { maxPixels });
    // Decoded in the process's pixel budget: a stored image refused by today's limits (taken under others) goes alone.
    const pixels = header.ok ? header.header.width * header.header.height : Number.POSITIVE_INFINITY;
    const thumbnail = await decodingBudget.run(
      async () =>
        (await decodingToSrgb(sharp(bytes)))
          .rotate()
          .resize(size, size, { fit: 'inside', withoutEnlargement: true })
          .webp({ quality: 80 })
          .toBuffer(),
      { weight: pixels },
    );
    this.remember(key, thumbnail);
    return thumbnail;
  }

  private remember(key: string, thumbnail: Buffer): void {
    this.cache.set(key, thumbnail);
    this.cachedBytes += thumbnail.length;
    for (const [oldest, bytes] of this.cache) {
      if (this.cachedBytes <= CACHE_BYTES) break;
      this.cache.delete(oldest);
      this.cachedBytes -= bytes.length;
    }
  }
}
