import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import { type AuthenticatedUser, CurrentUser, UuidParam } from '@diyml/core';
import type { ImageFilter as DatasetImageFilter, ImageView } from '@diyml/datasets';
import { matchesMetadata, type MetadataFilter, parseMetadataFilter } from '../../domain/metadata-filter.js';
import { type CvImage, toCvImage } from '../../domain/shapes.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE } from '../../http/custom-vision-controller.js';
import { baseUrlOf } from '../../http/query.js';
import {
  CvGetImagesQueryDto,
  CvImageCountQueryDto,
  CvImagesByIdsQueryDto,
  CvTaggedImageCountQueryDto,
  CvTaggedImagesQueryDto,
  CvUntaggedImageCountQueryDto,
  CvUntaggedImagesQueryDto,
} from './image-requests.dto.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import { CvImageDto } from '../../http/custom-vision.dto.js';

type TaggingStatus = 'All' | 'Tagged' | 'Untagged';

interface ImageFilter {
  taggingStatus: TaggingStatus;
  tagIds: string[];
  metadata?: MetadataFilter;
}

function isTagged(image: ImageView): boolean {
  return image.labeled;
}

function matches(image: ImageView, filter: ImageFilter): boolean {
  if (filter.taggingStatus === 'Tagged' && !isTagged(image)) return false;
  if (filter.taggingStatus === 'Untagged' && isTagged(image)) return false;
  if (filter.metadata && !matchesMetadata(image.metadata, filter.metadata)) return false;
  if (filter.tagIds.length === 0) return true;
  return filter.tagIds.some((tagId) => image.labelIds.includes(tagId));
}

/**
 * The filter as the images' index answers it (tagging status, one tag), or null when it needs every image read:
 * several tags (any of them) or a metadata expression (eq, ne, and, or).
 */
function indexedFilterOf(filter: ImageFilter): DatasetImageFilter | null {
  if (filter.metadata || filter.tagIds.length > 1) return null;
  return {
    ...(filter.taggingStatus === 'All' ? {} : { unlabeled: filter.taggingStatus === 'Untagged' }),
    ...(filter.tagIds.length === 1 ? { labelId: filter.tagIds[0] } : {}),
  };
}

function metadataFilterOf(value: string | undefined): MetadataFilter | undefined {
  return value === undefined || value === '' ? undefined : parseMetadataFilter(value);
}

/** Reading images: tagged, untagged, all, by id, and their counts, from DatasetQueries. */
@CustomVisionTrainingController()
@CustomVisionErrors(400)
@Controller(`${TRAINING_BASE}/projects/:projectId/images`)
export class ImageQueriesController {
  constructor(private readonly reads: CustomVisionReads) {}

  @Get()
  @ApiOperation({
    operationId: 'CustomVision_GetImages',
    summary:
      'Custom Vision: images (?taggingStatus=All|Tagged|Untagged&tagIds=&$filter=&orderBy=Newest|Oldest&take=&skip=)',
    description: "$filter: a metadata expression, e.g. key1 eq 'value1' and key2 ne 'value2' (eq, ne, and, or).",
  })
  @ApiOkResponse({ type: [CvImageDto] })
  all(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvGetImagesQueryDto,
    @Req() request: Request,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvImage[]> {
    return this.page(projectId, user, request, query, {
      taggingStatus: query.taggingStatus ?? 'All',
      tagIds: query.tagIds ?? [],
      metadata: metadataFilterOf(query.$filter),
    });
  }

  @Get('count')
  @ApiOperation({
    operationId: 'CustomVision_GetImageCount',
    summary: 'Custom Vision: how many images (?taggingStatus=&tagIds=&$filter=, a metadata expression)',
  })
  @ApiOkResponse({ schema: { type: 'integer', example: 42 } })
  count(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvImageCountQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<number> {
    return this.countOf(projectId, user, {
      taggingStatus: query.taggingStatus ?? 'All',
      tagIds: query.tagIds ?? [],
      metadata: metadataFilterOf(query.$filter),
    });
  }

  @Get('tagged')
  @ApiOperation({
    operationId: 'CustomVision_GetTaggedImages',
    summary: 'Custom Vision: tagged images (?tagIds=&orderBy=&take=&skip=)',
  })
  @ApiOkResponse({ type: [CvImageDto] })
  tagged(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvTaggedImagesQueryDto,
    @Req() request: Request,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvImage[]> {
    return this.page(projectId, user, request, query, { taggingStatus: 'Tagged', tagIds: query.tagIds ?? [] });
  }

  @Get('tagged/count')
  @ApiOperation({
    operationId: 'CustomVision_GetTaggedImageCount',
    summary: 'Custom Vision: how many tagged images (?tagIds=)',
  })
  @ApiOkResponse({ schema: { type: 'integer', example: 42 } })
  taggedCount(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvTaggedImageCountQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<number> {
    return this.countOf(projectId, user, { taggingStatus: 'Tagged', tagIds: query.tagIds ?? [] });
  }

  @Get('untagged')
  @ApiOperation({
    operationId: 'CustomVision_GetUntaggedImages',
    summary: 'Custom Vision: untagged images (?orderBy=&take=&skip=)',
  })
  @ApiOkResponse({ type: [CvImageDto] })
  untagged(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvUntaggedImagesQueryDto,
    @Req() request: Request,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvImage[]> {
    return this.page(projectId, user, request, query, { taggingStatus: 'Untagged', tagIds: [] });
  }

  @Get('untagged/count')
  @ApiOperation({
    operationId: 'CustomVision_GetUntaggedImageCount',
    summary: 'Custom Vision: how many untagged images',
  })
  @ApiOkResponse({ schema: { type: 'integer', example: 42 } })
  untaggedCount(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() _query: CvUntaggedImageCountQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<number> {
    return this.countOf(projectId, user, { taggingStatus: 'Untagged', tagIds: [] });
  }

  @Get('id')
  @ApiOperation({ operationId: 'CustomVision_GetImagesByIds', summary: 'Custom Vision: images by id (?imageIds=a,b)' })
  @ApiOkResponse({ type: [CvImageDto] })
  async byIds(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvImagesByIdsQueryDto,
    @Req() request: Request,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvImage[]> {
    const project = await this.reads.project(projectId, user.id);
    const baseUrl = baseUrlOf(request);
    const images = await this.reads.imagesByIds(projectId, query.imageIds ?? []);
    return images.map((image) => toCvImage(image, project, baseUrl));
  }

  private async page(
    projectId: string,
    user: AuthenticatedUser,
    request: Request,
    { take = 50, skip = 0, orderBy = 'Newest' }: CvUntaggedImagesQueryDto,
    filter: ImageFilter,
  ): Promise<CvImage[]> {
    const project = await this.reads.project(projectId, user.id);
    const indexed = indexedFilterOf(filter);
    let images: ImageView[];
    if (indexed) {
      images = await this.reads.indexedImages(projectId, indexed, skip + take, orderBy === 'Newest' ? 'desc' : 'asc');
    } else {
      images = (await this.reads.images(projectId)).filter((image) => matches(image, filter));
      if (orderBy === 'Newest') images.reverse();
    }
    const baseUrl = baseUrlOf(request);
    return images.slice(skip, skip + take).map((image) => toCvImage(image, project, baseUrl));
  }

  private async countOf(projectId: string, user: AuthenticatedUser, filter: ImageFilter): Promise<number> {
    await this.reads.project(projectId, user.id);
    const indexed = indexedFilterOf(filter);
    if (indexed) return this.reads.indexedCount(projectId, indexed);
    return (await this.reads.images(projectId)).filter((image) => matches(image, filter)).length;
  }
}
