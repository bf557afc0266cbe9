import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiHeader, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { expectedRevisionFromIfMatch, type HttpRequest } from '@diyml/core';
import type { LabelView } from '@diyml/projects';
import { SPLITS, type Split } from '../domain/image.events.js';
import { SUPPORTED_IMAGE_FORMATS } from '../images/image-formats.js';
import { DatasetQueries } from '../read-models/images/dataset-queries.js';
import type { ImageView } from '../read-models/images/image.view.js';

export class ImageLabelDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'cat' })
  name: string;
}

export class RegionDto {
  @ApiProperty({ type: ImageLabelDto })
  label: ImageLabelDto;

  @ApiProperty({ example: 0.1, description: 'Left edge, as a fraction (0..1) of the image width.' })
  x: number;

  @ApiProperty({ example: 0.2, description: 'Top edge, as a fraction (0..1) of the image height.' })
  y: number;

  @ApiProperty({ example: 0.5, description: 'Width, as a fraction of the image width.' })
  width: number;

  @ApiProperty({ example: 0.4, description: 'Height, as a fraction of the image height.' })
  height: number;
}

export class ImageOriginDto {
  @ApiProperty({ enum: ['video'] })
  kind: 'video';

  @ApiProperty({ format: 'uuid' })
  videoId: string;

  @ApiProperty({ example: 1500, description: 'Where in the video the frame is, in milliseconds from its start.' })
  timestampMs: number;
}

export class ImageDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'cat-001.jpg' })
  filename: string;

  @ApiProperty({ example: 640, description: 'Upright width in pixels (EXIF orientation applied).' })
  width: number;

  @ApiProperty({ example: 480 })
  height: number;

  @ApiProperty({ enum: SUPPORTED_IMAGE_FORMATS, description: 'The real format, read from the bytes.' })
  format: string;

  @ApiProperty({ example: 48213 })
  bytes: number;

  @ApiProperty({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })
  sha256: string;

  @ApiProperty({ type: ImageLabelDto, nullable: true, description: 'Classification label; null when unlabeled.' })
  label: ImageLabelDto | null;

  @ApiProperty({
    type: [ImageLabelDto],
    description:
      'Whole-image labels: a multilabel image has any number (none: untagged), a classification image its label ' +
      'or none, a detection image none.',
  })
  labels: ImageLabelDto[];

  @ApiProperty({ type: [RegionDto], description: 'Detection boxes.' })
  regions: RegionDto[];

  @ApiProperty({ enum: SPLITS })
  split: Split;

  @ApiProperty({ description: 'Whether training uses this image.' })
  included: boolean;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { camera: 'north-gate' },
    description: 'Key/value metadata (PUT …/images/{imageId}/metadata), at most 10 entries.',
  })
  metadata: Record<string, string>;

  @ApiProperty({ format: 'date-time' })
  uploadedAt: string;

  @ApiPropertyOptional({
    type: ImageOriginDto,
    description: 'A frame of an uploaded video: which video, and where in it.',
  })
  source?: ImageOriginDto;

  @ApiProperty({ example: 2, description: 'Changes with every write; also sent as the ETag header.' })
  revision: number;
}

export class ImageListDto {
  @ApiProperty({ type: [ImageDto], description: 'In upload order.' })
  items: ImageDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page.',
  })
  nextCursor: string | null;

  @ApiProperty({
    example: 5312,
    description: 'How many images match the filters in all (every page), as of the same moment as `items`.',
  })
  total: number;
}

export function toImageDto(image: ImageView, labels: readonly LabelView[]): ImageDto {
  return DatasetQueries.withLabels(image, labels);
}

export class ItemErrorDto {
  @ApiProperty({ example: 'UNSUPPORTED_IMAGE' })
  code: string;

  @ApiProperty({ example: 'The file is not an image in a supported format (jpeg, png, webp, gif, tiff, avif).' })
  message: string;
}

/** The revision named by the request's `If-Match` header, or undefined without one. */
export const IfMatchRevision = createParamDecorator((_: unknown, context: ExecutionContext): number | undefined => {
  const header = context.switchToHttp().getRequest<HttpRequest>().headers['if-match'];
  return expectedRevisionFromIfMatch(Array.isArray(header) ? header[0] : header);
});

export function ApiIfMatch(): MethodDecorator {
  return applyDecorators(
    ApiHeader({
      name: 'If-Match',
      required: false,
      description: 'ETag of the image as you last read it (e.g. W/"2"); 412 REVISION_MISMATCH if it changed since.',
    }),
  );
}

export const ETAG_HEADER = {
  ETag: { description: 'The image revision, e.g. W/"2"; send it back as If-Match.', schema: { type: 'string' } },
};
