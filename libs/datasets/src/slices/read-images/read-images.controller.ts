import { Controller, Get, Param, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { BlobStore } from '@diyml/blobs';
import {
  ApiErrors,
  type AuthenticatedUser,
  ClientGone,
  CurrentUser,
  DEFAULT_PAGE_SIZE,
  setEtag,
  UuidParam,
} from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import { resolveLabel } from '../../domain/label-reference.js';
import { ETAG_HEADER, ImageDto, ImageListDto, toImageDto } from '../../http/image.dto.js';
import { DatasetAsOf } from '../../read-models/images/dataset-as-of.js';
import { DatasetQueries } from '../../read-models/images/dataset-queries.js';
import { ImagesListPages } from './images-list-pages.js';
import { ListImagesQueryDto } from './list-images.dto.js';

const CONTENT_TYPES: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tiff: 'image/tiff',
  avif: 'image/avif',
};

@ApiTags('images')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/images')
export class ReadImagesController {
  constructor(
    private readonly access: ProjectAccess,
    private readonly queries: DatasetQueries,
    private readonly blobs: BlobStore,
    private readonly asOf: DatasetAsOf,
    private readonly pages: ImagesListPages,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'listImages',
    summary: 'List the images of a project, filtered and paged, in upload order',
    description: 'With `asOf`, the images, labels and training points as they were then, computed from the log.',
  })
  @ApiOkResponse({
    type: ImageListDto,
    headers: {
      ETag: {
        description: 'Names this answer; send it back as If-None-Match to get 304 while unchanged.',
        schema: { type: 'string' },
      },
    },
  })
  @ApiResponse({ status: 304, description: 'The list is unchanged since the ETag sent in If-None-Match.' })
  @ApiErrors(400, 401, 404)
  async list(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: ListImagesQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @Res() response: Response,
    @ClientGone() clientGone: AbortSignal,
  ): Promise<void> {
    const current = await this.access.getOwned(projectId, user.id);
    const { label, unlabeled, split, included, metadata, limit, cursor, asOf } = query;
    const filterKey = JSON.stringify([projectId, label, unlabeled, split, included, metadata, asOf]);
    const render = async (): Promise<ImageListDto> => {
      const { project, queries } = asOf
        ? await this.asOf.at(projectId, asOf, clientGone)
        : { project: current, queries: this.queries };
      const labelId = label === undefined ? undefined : resolveLabel(project.labels, label).id;
      const filter = { labelId, unlabeled, split, included, metadata };
      // The same index as the page, counted once per filter while the read models stay at one position.
      const [page, total] = await Promise.all([
        queries.list(projectId, filter, { limit: limit ?? DEFAULT_PAGE_SIZE, cursor }),
        this.pages.total(filterKey, () => queries.count(projectId, filter)),
      ]);
      return {
        items: page.items.map((image) => toImageDto(image, project.labels)),
        nextCursor: page.nextCursor,
        total,
      };
    };
    const key = JSON.stringify([projectId, label, unlabeled, split, included, metadata, limit, cursor, asOf]);
    const page = await this.pages.get(key, render);
    // Express answers 304 without the body when If-None-Match names this ETag.
    response.setHeader('ETag', page.etag);
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.send(page.body);
  }

  @Get(':imageId')
  @ApiOperation({ operationId: 'getImage', summary: 'One image: its metadata, label, boxes and training points' })
  @ApiOkResponse({ type: ImageDto, headers: ETAG_HEADER })
  @ApiErrors(400, 401, 404)
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('imageId', UuidParam('imageId')) imageId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ImageDto> {
    const project = await this.access.getOwned(projectId, user.id);
    const image = await this.queries.get(projectId, imageId);
    setEtag(response, image.revision);
    return toImageDto(image, project.labels);
  }

  @Get(':imageId/content')
  @ApiOperation({ operationId: 'getImageContent', summary: 'The original bytes of the image, as uploaded' })
  @ApiProduces(...Object.values(CONTENT_TYPES))
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiErrors(400, 401, 404)
  async content(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('imageId', UuidParam('imageId')) imageId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StreamableFile> {
    await this.access.getOwned(projectId, user.id);
    const image = await this.queries.get(projectId, imageId);
    const bytes = await this.blobs.get(image.sha256);
    response.setHeader('ETag', `"${image.sha256}"`);
    response.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    return new StreamableFile(bytes, {
      type: CONTENT_TYPES[image.format] ?? 'application/octet-stream',
      length: bytes.length,
      disposition: `inline; filename*=UTF-8''${encodeURIComponent(image.filename)}`,
    });
  }
}
