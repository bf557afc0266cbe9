import { Body, Controller, HttpCode, Param, Post, Res, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional } from 'class-validator';
import type { Response } from 'express';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '../../../../core/src/index.js';
import { SPLITS, type Split } from '../../domain/image.events.js';
import { ImageLabelDto } from '../../http/image.dto.js';
import { MultipartFiles, type ReceivedFile, ReceivedFiles } from '../../upload/multipart.interceptor.js';
import { DEFAULT_UPLOAD_LIMITS } from '../../upload/upload-limits.js';
import { answerIntake } from '../upload-images/upload-images.controller.js';
import { UploadItemDto } from '../upload-images/upload-images.dto.js';
import { ImportDataset } from './import-dataset.handler.js';

export class ImportDatasetDto {
  @ApiPropertyOptional({ enum: SPLITS, default: 'train', description: 'Split of images not in a split folder.' })
  @IsOptional()
  @IsIn(SPLITS)
  split?: Split;

  @ApiPropertyOptional({ default: true, description: 'Add labels the project lacks; false: 400 UNKNOWN_LABEL instead.' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  createLabels?: boolean;
}

export class ImportResultDto {
  @ApiProperty({ type: [UploadItemDto], description: 'One item per image of the archive; `filename` is its path in the zip.' })
  items: UploadItemDto[];

  @ApiProperty({ type: [ImageLabelDto], description: 'Labels added to the project by this import.' })
  labelsCreated: ImageLabelDto[];

  @ApiProperty({ description: 'Entries that were not images (README, CSV, …).' })
  ignored: number;
}

@ApiTags('images')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/images')
export class ImportDatasetController {
  constructor(private readonly commands: CommandBus) {}

  @Post('import')
  @HttpCode(201)
  @UseInterceptors(MultipartFiles({ field: 'archive', kind: 'archive' }))
  @ApiOperation({
    summary: 'Import a labelled dataset from a zip',
    description:
      'Classification: one folder per class (`cat/1.jpg`, `dog/2.png`), optionally inside split folders ' +
      '(`train/`, `val/` or `valid/` or `validation/`, `test/`) and one common top folder; images at the top are unlabeled. ' +
      'Detection: COCO JSON (`images` with width and height, `annotations` with pixel `bbox` [x, y, width, height], ' +
      '`categories`) and the images it names; a JSON file in a `train/`, `valid/` or `test/` folder sets the split. ' +
      'Every image goes through the same checks as an upload (each `created`, `duplicate` or `rejected`); ' +
      `archive limit ${DEFAULT_UPLOAD_LIMITS.IMPORT_MAX_ARCHIVE_BYTES} bytes [IMPORT_MAX_ARCHIVE_BYTES], ` +
      `${DEFAULT_UPLOAD_LIMITS.IMPORT_MAX_FILES} images [IMPORT_MAX_FILES]. 201, 207 when some images were rejected.`,
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['archive'],
      properties: {
        archive: { type: 'string', format: 'binary', description: 'A .zip file.' },
        split: { type: 'string', enum: [...SPLITS] },
        createLabels: { type: 'boolean', default: true },
      },
    },
  })
  @ApiCreatedResponse({ type: ImportResultDto })
  @ApiResponse({ status: 207, type: ImportResultDto, description: 'Some images were rejected; the others were taken.' })
  @ApiErrors(400, 401, 404, 413)
  async import(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: ImportDatasetDto,
    @ReceivedFiles() files: ReceivedFile[],
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ImportResultDto> {
    const result = await this.commands.execute(
      new ImportDataset(projectId, files[0], body.split, body.createLabels ?? true, { ...context, userId: user.id }),
    );
    const { items } = answerIntake(result.items, response);
    return { items, labelsCreated: result.labelsCreated, ignored: result.ignored };
  }
}
