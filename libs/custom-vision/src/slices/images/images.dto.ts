import { ApiProperty } from '@nestjs/swagger';
import { CvBoundingBoxDto, CvImageDto } from '../../http/custom-vision.dto.js';
import type { ImageCreateResult, ImageCreateStatus, ImageCreateSummary } from './image-batch.js';

const IMAGE_CREATE_STATUSES: ImageCreateStatus[] = [
  'OK',
  'OKDuplicate',
  'ErrorSource',
  'ErrorImageFormat',
  'ErrorImageSize',
  'ErrorStorage',
  'ErrorLimitExceed',
  'ErrorTagLimitExceed',
  'ErrorRegionLimitExceed',
  'ErrorUnknown',
  'ErrorImageDimensions',
  'ErrorInvalidTag',
  'ErrorNegativeAndRegularTagOnSameImage',
];

export class CvImageCreateResultDto implements ImageCreateResult {
  @ApiProperty({ example: 'cat-01.jpg', description: 'The file name, URL or prediction id the image came from.' })
  sourceUrl: string;
  @ApiProperty({ enum: IMAGE_CREATE_STATUSES, description: 'OK or OKDuplicate: it is in the project; else why not.' })
  status: ImageCreateStatus;
  @ApiProperty({ type: CvImageDto, nullable: true, description: 'null when it was not created.' })
  image: CvImageDto | null;
}

/** 200 when every image was created (or was there already), 207 when some were not. */
export class CvImageCreateSummaryDto implements ImageCreateSummary {
  @ApiProperty({ description: 'Whether every image is in the project (status OK or OKDuplicate).' })
  isBatchSuccessful: boolean;
  @ApiProperty({ type: [CvImageCreateResultDto], description: 'One per image sent, in order.' })
  images: CvImageCreateResultDto[];
}

export class CvImageRegionDto extends CvBoundingBoxDto {
  @ApiProperty({ format: 'uuid' }) imageId: string;
  @ApiProperty({ format: 'uuid' }) tagId: string;
}

export class CvImageRegionCreatedDto extends CvImageRegionDto {
  @ApiProperty({ format: 'uuid' }) regionId: string;
  @ApiProperty({ example: 'cat' }) tagName: string;
  @ApiProperty({ format: 'date-time' }) created: string;
}

/** 200 when every region was added (or was there already), 207 when some images could not take theirs. */
export class CvImageRegionCreateSummaryDto {
  @ApiProperty({ type: [CvImageRegionCreatedDto] }) created: CvImageRegionCreatedDto[];
  @ApiProperty({ type: [CvImageRegionDto], description: 'Regions the image had already.' })
  duplicated: CvImageRegionDto[];
  @ApiProperty({ type: [CvImageRegionDto], example: [], description: 'Always empty: no region limit is exceeded.' })
  exceeded: CvImageRegionDto[];
}

export class CvImageTagAssignmentDto {
  @ApiProperty({ format: 'uuid' }) imageId: string;
  @ApiProperty({ format: 'uuid' }) tagId: string;
}

export class CvImageTagCreateSummaryDto {
  @ApiProperty({ type: [CvImageTagAssignmentDto] }) created: CvImageTagAssignmentDto[];
  @ApiProperty({ type: [CvImageTagAssignmentDto], description: 'The image had that tag already.' })
  duplicated: CvImageTagAssignmentDto[];
  @ApiProperty({
    type: [CvImageTagAssignmentDto],
    description: 'The image has another tag (one tag per image: Multiclass).',
  })
  exceeded: CvImageTagAssignmentDto[];
}

export class CvImageMetadataUpdateResultDto {
  @ApiProperty({ format: 'uuid' }) imageId: string;
  @ApiProperty({ enum: ['OK', 'ErrorImageNotFound', 'ErrorLimitExceed'] })
  status: 'OK' | 'ErrorImageNotFound' | 'ErrorLimitExceed';
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    nullable: true,
    description: "The image's metadata after the change; null when it failed.",
  })
  metadata: Record<string, string> | null;
}

/** 200 when every image took the metadata, 207 when some did not. */
export class CvImageMetadataUpdateSummaryDto {
  @ApiProperty() isBatchSuccessful: boolean;
  @ApiProperty({ type: [CvImageMetadataUpdateResultDto] }) images: CvImageMetadataUpdateResultDto[];
}

export class CvRegionProposalDto {
  @ApiProperty({ example: 0.71 }) confidence: number;
  @ApiProperty({ type: CvBoundingBoxDto }) boundingBox: CvBoundingBoxDto;
}

export class CvImageRegionProposalDto {
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ format: 'uuid' }) imageId: string;
  @ApiProperty({ type: [CvRegionProposalDto], description: 'Most confident first.' }) proposals: CvRegionProposalDto[];
}
