import { Controller, Get, Headers, HttpStatus, Param, Query, Res, StreamableFile } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors, type AuthenticatedUser, CurrentUser, UuidParam } from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import { DatasetQueries } from '../../read-models/images/dataset-queries.js';
import { ImageThumbnails } from './image-thumbnails.js';
import { ThumbnailQueryDto } from './thumbnail-query.dto.js';

const DEFAULT_SIZE = 256;

@ApiTags('images')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/images')
export class ImageThumbnailController {
  constructor(
    private readonly access: ProjectAccess,
    private readonly queries: DatasetQueries,
    private readonly thumbnails: ImageThumbnails,
  ) {}

  @Get(':imageId/thumbnail')
  @ApiOperation({
    operationId: 'getImageThumbnail',
    summary: 'A small WebP copy of the image for grids and lists',
    description:
      'Made on the server and cached by content hash and size. The ETag names the content, so the response may be ' +
      'cached for good (`Cache-Control: private, immutable`); `If-None-Match` with that ETag answers 304.',
  })
  @ApiProduces('image/webp')
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'An ETag from an earlier response.' })
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: HttpStatus.NOT_MODIFIED, description: 'The cached thumbnail is still this one.' })
  @ApiErrors(400, 401, 404)
  async thumbnail(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('imageId', UuidParam('imageId')) imageId: string,
    @Query() query: ThumbnailQueryDto,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StreamableFile | undefined> {
    await this.access.getOwned(projectId, user.id);
    const image = await this.queries.get(projectId, imageId);
    const size = query.size ?? DEFAULT_SIZE;
    const etag = `"${image.sha256}-${size}"`;
    response.setHeader('ETag', etag);
    response.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    if (ifNoneMatch === etag) {
      response.status(HttpStatus.NOT_MODIFIED);
      return undefined;
    }
    const bytes = await this.thumbnails.get(image.sha256, size);
    return new StreamableFile(bytes, { type: 'image/webp', length: bytes.length });
  }
}
