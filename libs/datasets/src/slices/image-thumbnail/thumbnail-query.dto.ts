import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsOptional } from 'class-validator';

/** A few fixed sizes keep the cache small and let browsers share cached thumbnails between screens. */
export const THUMBNAIL_SIZES = [64, 128, 256, 512] as const;
export type ThumbnailSize = (typeof THUMBNAIL_SIZES)[number];

export class ThumbnailQueryDto {
  @ApiPropertyOptional({
    enum: THUMBNAIL_SIZES,
    default: 256,
    description: 'The longest side in pixels; the image keeps its aspect ratio and is never enlarged.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsIn(THUMBNAIL_SIZES, { message: `size must be one of ${THUMBNAIL_SIZES.join(', ')}` })
  size?: ThumbnailSize;
}
