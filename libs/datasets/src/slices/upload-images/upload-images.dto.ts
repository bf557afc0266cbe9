import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { SPLITS, type Split } from '../../domain/image.events.js';
import { ItemErrorDto } from '../../http/image.dto.js';
import { IMAGE_QUOTA_DESCRIPTION } from '../../upload/image-quota.js';
import { DEFAULT_UPLOAD_LIMITS } from '../../upload/upload-limits.js';

/** The text fields of the multipart upload. */
export class UploadImagesDto {
  @ApiPropertyOptional({ description: 'Label (name or id) for every uploaded file; classification projects only.' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label?: string;

  @ApiPropertyOptional({
    description:
      'Labels for every uploaded file, a JSON array of names or ids (`["dog","outdoor"]`): several for a multilabel ' +
      'project, at most one for a classification project.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(10_000)
  labels?: string;

  @ApiPropertyOptional({ enum: SPLITS, default: 'train' })
  @IsOptional()
  @IsIn(SPLITS)
  split?: Split;
}

export class UploadItemDto {
  @ApiProperty({ example: 'cat-001.jpg' })
  filename: string;

  @ApiProperty({
    enum: ['created', 'duplicate', 'rejected'],
    description: '`duplicate`: the same bytes are already an image of this project (`id` names it).',
  })
  status: 'created' | 'duplicate' | 'rejected';

  @ApiPropertyOptional({ format: 'uuid' })
  id?: string;

  @ApiPropertyOptional({ type: ItemErrorDto, description: 'Why the file was rejected.' })
  error?: ItemErrorDto;
}

export class UploadResultDto {
  @ApiProperty({ type: [UploadItemDto], description: 'One item per file, in the order sent.' })
  items: UploadItemDto[];
}

const limits = DEFAULT_UPLOAD_LIMITS;

export const UPLOAD_DESCRIPTION =
  'Multipart form: one or more files in field `images`; optional `label` (name or id, applied to every file) or ' +
  "`labels` (a JSON array of names or ids: a multilabel project's labels for every file) " +
  'and `split` (`train` by default). Each file is checked from its bytes (never its name or declared type): ' +
  "formats jpeg, png, webp, gif, tiff, avif, and heic (an iPhone's photos: kept as a JPEG, under the name sent); " +
  'fully decoded, so truncated files are refused. ' +
  `Limits (defaults; settings in brackets): ${limits.UPLOAD_MAX_FILE_BYTES} bytes per file [UPLOAD_MAX_FILE_BYTES], ` +
  `${limits.UPLOAD_MAX_PIXELS} pixels per image [UPLOAD_MAX_PIXELS], ${limits.UPLOAD_MAX_FILES} files per request ` +
  `[UPLOAD_MAX_FILES], ${limits.UPLOAD_MAX_REQUEST_BYTES} bytes per request [UPLOAD_MAX_REQUEST_BYTES]. ` +
  'Each file is `created`, `duplicate` (same bytes already in the project) or `rejected` with an error ' +
  '(EMPTY_FILE, FILE_TOO_LARGE, UNSUPPORTED_IMAGE for a file that is no picture, UNSUPPORTED_IMAGE_FORMAT for a ' +
  'picture in a format not taken, such as BMP or SVG, with how to convert it, CORRUPT_IMAGE, ' +
  'IMAGE_TOO_LARGE). 201 when no file was rejected, 207 when some were; 400 when all were (code of the files, or ' +
  'IMAGES_REJECTED, with the items in `details.items`), 415 when all were UNSUPPORTED_IMAGE_FORMAT. A rejected file ' +
  'leaves nothing behind. ' +
  IMAGE_QUOTA_DESCRIPTION;
