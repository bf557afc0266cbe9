import { Body, Controller, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiOkResponse, ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { type AuthenticatedUser, Ctx, CurrentUser, isDomainError, type RequestContext, UuidParam } from '@diyml/core';
import { DatasetErrors, UpdateImageMetadata, validateMetadata } from '@diyml/datasets';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE, userContext } from '../../http/custom-vision-controller.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import { CvUpdateImageMetadataQueryDto } from './image-requests.dto.js';
import { CvImageMetadataUpdateResultDto, CvImageMetadataUpdateSummaryDto } from './images.dto.js';

/** updateImageMetadata: merges the sent key/value pairs into each image's metadata (UpdateImageMetadata). */
@CustomVisionTrainingController()
@CustomVisionErrors(400)
@Controller(`${TRAINING_BASE}/projects/:projectId/images/metadata`)
export class ImageMetadataController {
  constructor(
    private readonly commands: CommandBus,
    private readonly reads: CustomVisionReads,
  ) {}

  @Post()
  @ApiOperation({
    operationId: 'CustomVision_UpdateImageMetadata',
    summary: 'Custom Vision: add or change metadata of images (?imageIds=a,b; body {key: value}); 207 when some failed',
    description:
      'At most 10 entries per image (ErrorLimitExceed past it), keys of up to 128 characters, values of up to 256.',
  })
  @ApiBody({
    description: 'The key/value pairs to add or change (checked as a whole before any image changes).',
    schema: { type: 'object', additionalProperties: { type: 'string' }, example: { camera: 'porch' } },
  })
  @ApiOkResponse({ type: CvImageMetadataUpdateSummaryDto, description: 'Every image took the metadata.' })
  @ApiResponse({
    status: 207,
    type: CvImageMetadataUpdateSummaryDto,
    description: 'Some images did not: see each status.',
  })
  async update(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvUpdateImageMetadataQueryDto,
    @Body() body: Record<string, string>,
    @Res({ passthrough: true }) response: Response,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<CvImageMetadataUpdateSummaryDto> {
    await this.reads.project(projectId, user.id);
    const metadata = validateMetadata(body);
    const images: CvImageMetadataUpdateResultDto[] = [];
    for (const imageId of query.imageIds) {
      try {
        const { image } = await this.commands.execute(
          new UpdateImageMetadata(projectId, imageId, metadata, 'merge', undefined, userContext(context, user)),
        );
        images.push({ imageId, status: 'OK', metadata: image.metadata });
      } catch (error) {
        if (isDomainError(error, DatasetErrors.IMAGE_NOT_FOUND))
          images.push({ imageId, status: 'ErrorImageNotFound', metadata: null });
        else if (isDomainError(error, DatasetErrors.METADATA_TOO_MANY_ENTRIES))
          images.push({ imageId, status: 'ErrorLimitExceed', metadata: null });
        else throw error;
      }
    }
    const isBatchSuccessful = images.every((image) => image.status === 'OK');
    response.status(isBatchSuccessful ? 200 : 207);
    return { isBatchSuccessful, images };
  }
}
