import { Body, Controller, Delete, HttpCode, Param, Patch, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  ApiErrors,
  type AuthenticatedUser,
  Ctx,
  CurrentUser,
  type RequestContext,
  setEtag,
  UuidParam,
} from '@diyml/core';
import { ApiIfMatch, ETAG_HEADER, ImageDto, IfMatchRevision } from '../../http/image.dto.js';
import { RemoveImage } from '../remove-image/remove-image.handler.js';
import { UpdateImage, UpdateImageDto } from './update-image.handler.js';

@ApiTags('images')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/images/:imageId')
export class UpdateImageController {
  constructor(private readonly commands: CommandBus) {}

  @Patch()
  @ApiOperation({
    operationId: 'updateImage',
    summary: 'Include or exclude an image from training, or assign its split (train, validation, test)',
  })
  @ApiIfMatch()
  @ApiOkResponse({ type: ImageDto, headers: ETAG_HEADER })
  @ApiErrors(400, 401, 404, 409, 412)
  async update(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('imageId', UuidParam('imageId')) imageId: string,
    @Body() body: UpdateImageDto,
    @IfMatchRevision() expectedRevision: number | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ImageDto> {
    const result = await this.commands.execute(
      new UpdateImage(projectId, imageId, body, expectedRevision, { ...context, userId: user.id }),
    );
    setEtag(response, result.revision);
    return result.image;
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    operationId: 'removeImage',
    summary: 'Remove an image from the project (its history stays in the log)',
  })
  @ApiIfMatch()
  @ApiNoContentResponse()
  @ApiErrors(400, 401, 404, 409, 412)
  async remove(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('imageId', UuidParam('imageId')) imageId: string,
    @IfMatchRevision() expectedRevision: number | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.commands.execute(new RemoveImage(projectId, imageId, expectedRevision, { ...context, userId: user.id }));
  }
}
