import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsObject, IsOptional, ValidateNested } from 'class-validator';
import { MAX_IMAGES_PER_BATCH } from '../../http/image-data.js';
import {
  AZURE_IMAGE_ORDER,
  AZURE_TAGGING_STATUSES,
  CvBoolean,
  CvEnum,
  CvInteger,
  CvNumber,
  CvString,
  CvUuid,
  CvUuidList,
} from '../../http/input.js';

/** Azure's limits: tags per image or batch, images per page, ids per request. */
export const MAX_TAGS = 20;
export const MAX_PAGE = 256;
export const MAX_IDS = 256;
export const MAX_REGION_IDS = 64;
export const MAX_IMAGE_TAG_IDS = 64;
export const MAX_TAG_ENTRIES = 128;
export const MAX_REGION_ENTRIES = 64;

const WORKSPACE =
  "Accepted; images are always the workspace's (the project's current images): diyml keeps no image set per iteration.";
const TAG_FILTER = 'Images tagged with any of these tags (or with a region of one).';

class CvIterationQueryDto {
  @CvUuid({ description: WORKSPACE })
  iterationId?: string;
}

class CvImagePageQueryDto extends CvIterationQueryDto {
  @CvEnum(AZURE_IMAGE_ORDER, { default: 'Newest', description: 'Upload order, newest first by default.' })
  orderBy?: 'Newest' | 'Oldest';

  @CvInteger({ min: 0, max: MAX_PAGE, default: 50, description: 'How many images to answer (at most 256).' })
  take?: number;

  @CvInteger({ default: 0, description: 'How many matching images to skip first.' })
  skip?: number;
}

/** GetImages' query. */
export class CvGetImagesQueryDto extends CvImagePageQueryDto {
  @CvUuidList({ max: MAX_TAGS, description: TAG_FILTER })
  tagIds?: string[];

  @CvEnum(AZURE_TAGGING_STATUSES, { default: 'All', description: 'Tagged: with a tag or a region.' })
  taggingStatus?: 'All' | 'Tagged' | 'Untagged';

  @CvString({
    maxLength: 2000,
    description: "A metadata expression, e.g. key1 eq 'value1' and key2 ne 'value2' (eq, ne, and, or).",
  })
  $filter?: string;
}

/** GetImageCount's query. */
export class CvImageCountQueryDto extends CvIterationQueryDto {
  @CvEnum(AZURE_TAGGING_STATUSES, { default: 'All', description: 'Tagged: with a tag or a region.' })
  taggingStatus?: 'All' | 'Tagged' | 'Untagged';

  @CvString({
    maxLength: 2000,
    description: "A metadata expression, e.g. key1 eq 'value1' and key2 ne 'value2' (eq, ne, and, or).",
  })
  $filter?: string;

  @CvUuidList({ description: TAG_FILTER })
  tagIds?: string[];
}

/** GetTaggedImages' query. */
export class CvTaggedImagesQueryDto extends CvImagePageQueryDto {
  @CvUuidList({ max: MAX_TAGS, description: TAG_FILTER })
  tagIds?: string[];
}

/** GetTaggedImageCount's query. */
export class CvTaggedImageCountQueryDto extends CvIterationQueryDto {
  @CvUuidList({ description: TAG_FILTER })
  tagIds?: string[];
}

/** GetUntaggedImages' query. */
export class CvUntaggedImagesQueryDto extends CvImagePageQueryDto {}

/** GetUntaggedImageCount's query. */
export class CvUntaggedImageCountQueryDto extends CvIterationQueryDto {}

/** GetImagesByIds' query. */
export class CvImagesByIdsQueryDto extends CvIterationQueryDto {
  @CvUuidList({ max: MAX_IDS, description: 'The images, in the order to answer them (unknown ids are left out).' })
  imageIds?: string[];
}

/** DeleteImages' query. */
export class CvDeleteImagesQueryDto {
  @CvUuidList({ max: MAX_IDS, description: 'The images to delete.' })
  imageIds?: string[];

  @CvBoolean({ description: 'Delete every image of the project (imageIds is then not needed).' })
  allImages?: boolean;

  @CvBoolean({ description: 'Accepted: a deleted image is gone from every iteration’s dataset view here.' })
  allIterations?: boolean;
}

/** DeleteImageTags' query. */
export class CvDeleteImageTagsQueryDto {
  @CvUuidList({ required: true, max: MAX_IMAGE_TAG_IDS, description: 'The images to untag.' })
  imageIds: string[];

  @CvUuidList({ required: true, max: MAX_TAGS, description: 'The tags to take off them.' })
  tagIds: string[];
}

/** DeleteImageRegions' query. */
export class CvDeleteImageRegionsQueryDto {
  @CvUuidList({
    required: true,
    max: MAX_REGION_IDS,
    description: 'The regions to delete (regionId of Image.regions).',
  })
  regionIds: string[];
}

/** UpdateImageMetadata's query. */
export class CvUpdateImageMetadataQueryDto {
  @CvUuidList({ required: true, max: MAX_IDS, description: 'The images whose metadata change.' })
  imageIds: string[];
}

/** CreateImagesFromData's query (the images come as multipart parts or the raw body). */
export class CvCreateImagesFromDataQueryDto {
  @CvUuidList({ max: MAX_TAGS, description: 'Tags for every image (classification: at most one).' })
  tagIds?: string[];
}

/** A region of an image: fractions (0 to 1) of its width and height, origin top-left. */
export class CvRegionInputDto {
  @CvUuid({ required: true, description: 'The tag of the region.' })
  tagId: string;

  @CvNumber({ required: true, description: 'Left edge, a fraction of the image width.' })
  left: number;

  @CvNumber({ required: true, description: 'Top edge, a fraction of the image height.' })
  top: number;

  @CvNumber({ required: true, description: 'A fraction of the image width.' })
  width: number;

  @CvNumber({ required: true, description: 'A fraction of the image height.' })
  height: number;
}

/** A region for an existing image (CreateImageRegions). */
export class CvImageRegionInputDto extends CvRegionInputDto {
  @CvUuid({ required: true, description: 'The image.' })
  imageId: string;
}

class CvImageEntryDto {
  @CvUuidList({ max: MAX_TAGS, description: 'Tags of this image, beside the batch’s (classification: one in all).' })
  tagIds?: string[];

  @ApiPropertyOptional({ type: [CvRegionInputDto], description: 'Object detection: its regions.' })
  @IsOptional()
  @IsArray({ message: '$property must be a list of regions' })
  @ValidateNested({ each: true })
  @Type(() => CvRegionInputDto)
  regions?: CvRegionInputDto[];
}

export class CvImageFileCreateEntryDto extends CvImageEntryDto {
  @CvString({ description: 'The file name (default image-<n>).' })
  name?: string;

  @CvString({ required: true, format: 'byte', description: 'The image, base64-encoded.' })
  contents: string;
}

export class CvImageUrlCreateEntryDto extends CvImageEntryDto {
  @CvString({ required: true, maxLength: 2048, description: "The image's http or https URL." })
  url: string;
}

export class CvImageIdCreateEntryDto extends CvImageEntryDto {
  @CvUuid({ required: true, description: 'A stored prediction of the project (QueryPredictions).' })
  id: string;
}

/** What every image batch has beside its images. */
class CvImageBatchDto {
  @CvUuidList({ max: MAX_TAGS, description: 'Tags for every image of the batch.' })
  tagIds?: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    nullable: true,
    example: { camera: 'porch' },
    description:
      'Key/value metadata merged into every image: at most 10 entries per image, keys of up to 128 characters, values of up to 256.',
  })
  @IsOptional()
  @IsObject({ message: '$property must be an object of string values' })
  metadata?: Record<string, string> | null;
}

/** The images of a batch: 1 to 64 (Azure's limit), each checked. */
function CvImages(entry: new () => object, description: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ type: [entry], minItems: 1, maxItems: MAX_IMAGES_PER_BATCH, description }),
    IsArray({ message: `$property must be a list of 1 to ${MAX_IMAGES_PER_BATCH} images` }),
    ArrayMinSize(1, { message: 'The batch has no images' }),
    ArrayMaxSize(MAX_IMAGES_PER_BATCH, { message: `$property takes at most ${MAX_IMAGES_PER_BATCH}` }),
    ValidateNested({ each: true }),
    Type(() => entry),
  );
}

/** CreateImagesFromFiles' body (Azure's ImageFileCreateBatch). */
export class CvImageFileCreateBatchDto extends CvImageBatchDto {
  @CvImages(CvImageFileCreateEntryDto, 'The images (base64).')
  images: CvImageFileCreateEntryDto[];
}

/** CreateImagesFromUrls' body (Azure's ImageUrlCreateBatch). */
export class CvImageUrlCreateBatchDto extends CvImageBatchDto {
  @CvImages(CvImageUrlCreateEntryDto, 'The images, by URL.')
  images: CvImageUrlCreateEntryDto[];
}

/** CreateImagesFromPredictions' body (Azure's ImageIdCreateBatch). */
export class CvImageIdCreateBatchDto extends CvImageBatchDto {
  @CvImages(CvImageIdCreateEntryDto, 'Stored predictions, by id.')
  images: CvImageIdCreateEntryDto[];
}

/** CreateImageRegions' body (Azure's ImageRegionCreateBatch). */
export class CvImageRegionCreateBatchDto {
  @ApiProperty({ type: [CvImageRegionInputDto], minItems: 1, maxItems: MAX_REGION_ENTRIES })
  @IsArray({ message: `$property must be a list of 1 to ${MAX_REGION_ENTRIES} regions` })
  @ArrayMinSize(1, { message: `Send 1 to ${MAX_REGION_ENTRIES} regions` })
  @ArrayMaxSize(MAX_REGION_ENTRIES, { message: `$property takes at most ${MAX_REGION_ENTRIES}` })
  @ValidateNested({ each: true })
  @Type(() => CvImageRegionInputDto)
  regions: CvImageRegionInputDto[];
}

export class CvImageTagInputDto {
  @CvUuid({ required: true, description: 'The image.' })
  imageId: string;

  @CvUuid({ required: true, description: 'The tag.' })
  tagId: string;
}

/** CreateImageTags' body (Azure's ImageTagCreateBatch). */
export class CvImageTagCreateBatchDto {
  @ApiProperty({ type: [CvImageTagInputDto], minItems: 1, maxItems: MAX_TAG_ENTRIES })
  @IsArray({ message: `$property must be a list of 1 to ${MAX_TAG_ENTRIES} image tags` })
  @ArrayMinSize(1, { message: `Send 1 to ${MAX_TAG_ENTRIES} tags` })
  @ArrayMaxSize(MAX_TAG_ENTRIES, { message: `$property takes at most ${MAX_TAG_ENTRIES}` })
  @ValidateNested({ each: true })
  @Type(() => CvImageTagInputDto)
  tags: CvImageTagInputDto[];
}
