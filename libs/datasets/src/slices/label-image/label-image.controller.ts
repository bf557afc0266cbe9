import { Body, Controller, Param, Put, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
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
import { LabelImage, LabelImageDto, labelReferencesOf, SetImageRegionsDto } from './label-image.handler.js';

@ApiTags('images')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/images/:imageId')
export class LabelImageController {
  constructor(private readonly commands: CommandBus) {}

  @Put('label')
  @ApiOperation({
    operationId: 'labelImage',
    summary: 'Set or clear the labels of an image (classification, multilabel)',
    description:
      'Label by name (case-insensitive) or id: `label` (one) or `labels` (the whole set; several on a multilabel ' +
      'project). 400 UNKNOWN_LABEL for a name the project lacks, LABEL_NOT_IN_PROJECT for an id of another project, ' +
      'TOO_MANY_LABELS for several labels on a classification project, WRONG_PROJECT_TYPE on a detection project.',
  })
  @ApiIfMatch()
  @ApiOkResponse({ type: ImageDto, headers: ETAG_HEADER })
  @ApiErrors(400, 401, 404, 409, 412)
  async label(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('imageId', UuidParam('imageId')) imageId: string,
    @Body() body: LabelImageDto,
    @IfMatchRevision() expectedRevision: number | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ImageDto> {
    const result = await this.commands.execute(
      new LabelImage(projectId, imageId, { labels: labelReferencesOf(body) }, expectedRevision, {
        ...context,
        userId: user.id,
      }),
    );
    setEtag(response, result.revision);
    return result.image;
  }

  @Put('regions')
  @ApiOperation({
    operationId: 'setImageRegions',
    summary: 'Replace the boxes of an image (detection)',
    description:
      'Coordinates are fractions (0..1) of the upright image, origin top-left. 400 REGION_OUT_OF_BOUNDS for a box ' +
      'outside the image, REGION_EMPTY for a box without area, UNKNOWN_LABEL / LABEL_NOT_IN_PROJECT for a label the ' +
      'project lacks, WRONG_PROJECT_TYPE on a classification project.',
  })
  @ApiIfMatch()
  @ApiOkResponse({ type: ImageDto, headers: ETAG_HEADER })
  @ApiErrors(400, 401, 404, 409, 412)
  async regions(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('imageId', UuidParam('imageId')) imageId: string,
    @Body() body: SetImageRegionsDto,
    @IfMatchRevision() expectedRevision: number | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ImageDto> {
    const result = await this.commands.execute(
      new LabelImage(projectId, imageId, { regions: body.regions }, expectedRevision, { ...context, userId: user.id }),
    );
    setEtag(response, result.revision);
    return result.image;
  }
}
