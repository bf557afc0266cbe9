import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  ApiErrors,
  type AuthenticatedUser,
  Ctx,
  CurrentUser,
  type RequestContext,
  UuidParam,
  validateItemsInTurns,
} from '@diyml/core';
import { LabelImages, LabelImagesDto, LabelImagesResultDto, LabelItemDto } from './label-images-batch.handler.js';

@ApiTags('images')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/images')
export class LabelImagesBatchController {
  constructor(private readonly commands: CommandBus) {}

  @Post('labels')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'labelImagesBatch',
    summary: 'Label many images at once',
    description:
      'Each item sets the label (classification) and/or replaces the boxes (detection) of one image, on its own: ' +
      '200 when every item succeeded, 207 when some failed (each failed item carries its error).',
  })
  @ApiOkResponse({ type: LabelImagesResultDto })
  @ApiResponse({ status: 207, type: LabelImagesResultDto, description: 'Some items failed; the others were applied.' })
  @ApiErrors(400, 401, 404)
  async label(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: LabelImagesDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<LabelImagesResultDto> {
    const items = await validateItemsInTurns(LabelItemDto, body.items, 'items');
    const result = await this.commands.execute(new LabelImages(projectId, items, { ...context, userId: user.id }));
    if (result.failed > 0) response.status(207);
    return result;
  }
}
