import { Body, Controller, HttpCode, Param, Post, Res, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import {
  ApiErrors,
  type AuthenticatedUser,
  Ctx,
  CurrentUser,
  DomainError,
  type RequestContext,
  UuidParam,
} from '@diyml/core';
import { DatasetErrors } from '../../domain/dataset-errors.js';
import { parseLabelsText } from '../../domain/label-reference.js';
import { kindOfImageRefusal } from '../../images/image-formats.js';
import { SPLITS } from '../../domain/image.events.js';
import type { IntakeItem } from '../../upload/image-intake.js';
import { MultipartFiles, type ReceivedFile, ReceivedFiles } from '../../upload/multipart.interceptor.js';
import { UPLOAD_DESCRIPTION, UploadImagesDto, UploadResultDto } from './upload-images.dto.js';
import { UploadImages } from './upload-images.handler.js';

/**
 * 201 when nothing was rejected, 207 for mixed results, 400 when every file was rejected (415 when each was a picture
 * in a format not taken, such as BMP).
 */
export function answerIntake(items: IntakeItem[], response: Response): UploadResultDto {
  const rejected = items.filter((item) => item.status === 'rejected');
  if (items.length > 0 && rejected.length === items.length) {
    const codes = new Set(rejected.map((item) => item.error?.code));
    const code = codes.size === 1 ? [...codes][0]! : DatasetErrors.IMAGES_REJECTED;
    const message =
      rejected.length === 1
        ? `${rejected[0].filename}: ${rejected[0].error?.message}`
        : `None of the ${rejected.length} files was accepted: see details.items.`;
    throw new DomainError(kindOfImageRefusal(code), code, message, { items });
  }
  response.status(rejected.length ? 207 : 201);
  return { items };
}

/** The labels a form gives every file: `label` and the names or ids of `labels`. */
function labelsOfForm(body: UploadImagesDto): string[] {
  return [
    ...(body.label !== undefined ? [body.label] : []),
    ...(body.labels !== undefined ? parseLabelsText(body.labels) : []),
  ];
}

@ApiTags('images')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/images')
export class UploadImagesController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(201)
  @UseInterceptors(MultipartFiles({ field: 'images', kind: 'images' }))
  @ApiOperation({ operationId: 'uploadImages', summary: 'Upload one or many images', description: UPLOAD_DESCRIPTION })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['images'],
      properties: {
        images: { type: 'array', items: { type: 'string', format: 'binary' } },
        label: { type: 'string', description: 'Label name or id for every file (classification, multilabel).' },
        labels: {
          type: 'string',
          description: 'JSON array of label names or ids for every file (multilabel; classification takes one).',
        },
        split: { type: 'string', enum: [...SPLITS], default: 'train' },
      },
    },
  })
  @ApiCreatedResponse({ type: UploadResultDto, description: 'Every file was created or was a duplicate.' })
  @ApiResponse({ status: 207, type: UploadResultDto, description: 'Some files were rejected; the others were taken.' })
  @ApiErrors(400, 401, 404, 413, 415, 422)
  async upload(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: UploadImagesDto,
    @ReceivedFiles() files: ReceivedFile[],
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<UploadResultDto> {
    const items = await this.commands.execute(
      new UploadImages(projectId, files, labelsOfForm(body), body.split, { ...context, userId: user.id }),
    );
    return answerIntake(items, response);
  }
}
