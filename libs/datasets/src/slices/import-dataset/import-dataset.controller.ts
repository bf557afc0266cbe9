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
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { SPLITS, type Split } from '../../domain/image.events.js';
import { ImageLabelDto } from '../../http/image.dto.js';
import { MultipartFiles, ReceivedUpload } from '../../upload/multipart.interceptor.js';
import { IMAGE_QUOTA_DESCRIPTION } from '../../upload/image-quota.js';
import type { UploadedFile } from '../../upload/temporary-files.js';
import { DEFAULT_UPLOAD_LIMITS } from '../../upload/upload-limits.js';
import { UploadItemDto } from '../upload-images/upload-images.dto.js';
import type { AnnotationIssueCode } from './dataset-archive.js';
import { ImportDataset } from './import-dataset.handler.js';

export class ImportDatasetDto {
  @ApiPropertyOptional({ enum: SPLITS, default: 'train', description: 'Split of images not in a split folder.' })
  @IsOptional()
  @IsIn(SPLITS)
  split?: Split;

  @ApiPropertyOptional({
    default: true,
    description: 'Add labels the project lacks; false: 400 UNKNOWN_LABEL instead.',
  })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  createLabels?: boolean;
}

export class AnnotationIssueDto {
  @ApiProperty({ example: 'train/_annotations.coco.json', description: 'The COCO file.' })
  file: string;

  @ApiProperty({
    example: 3,
    description: "Index in the file's `annotations` (-1: about all the image's boxes in the file).",
  })
  annotation: number;

  @ApiPropertyOptional({
    description: "The annotation's own `id`, when it has one.",
    oneOf: [{ type: 'number' }, { type: 'string' }],
  })
  annotationId?: number | string;

  @ApiProperty({
    enum: [
      'UNKNOWN_IMAGE_ID',
      'UNKNOWN_CATEGORY_ID',
      'INVALID_BBOX',
      'BOX_CLAMPED',
      'BOX_EMPTY',
      'BOX_TOO_SMALL',
      'IMAGE_LISTED_TWICE',
      'BOXES_TURNED_UPRIGHT',
    ],
    description:
      '`BOXES_TURNED_UPRIGHT`: the file gives the size of a phone photo as stored (sideways, before its EXIF ' +
      'orientation), so its boxes were drawn on the sideways pixels; they were turned with the photo.',
  })
  code: AnnotationIssueCode;

  @ApiProperty({
    enum: ['dropped', 'changed'],
    description: '`changed`: taken, cut to the image or turned upright; `dropped`: not taken.',
  })
  action: 'dropped' | 'changed';

  @ApiProperty()
  message: string;
}

export class ImportItemDto extends UploadItemDto {
  @ApiPropertyOptional({
    type: [AnnotationIssueDto],
    description: 'Annotations of this image dropped or changed on the way in.',
  })
  annotationIssues?: AnnotationIssueDto[];
}

export class ImportResultDto {
  @ApiProperty({
    type: [ImportItemDto],
    description: 'One item per image of the archive; `filename` is its path in the zip.',
  })
  items: ImportItemDto[];

  @ApiProperty({ type: [ImageLabelDto], description: 'Labels added to the project by this import.' })
  labelsCreated: ImageLabelDto[];

  @ApiProperty({
    description:
      'Entries passed over: neither images taken nor annotation files read (README, a JSON that is not COCO, …).',
  })
  ignored: number;

  @ApiProperty({
    type: [AnnotationIssueDto],
    description: 'Annotations dropped because they name an image id their file does not list.',
  })
  unmatchedAnnotations: AnnotationIssueDto[];
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
    operationId: 'importDataset',
    summary: 'Import a labeled dataset from a zip',
    description:
      'Classification: one folder per class (`cat/1.jpg`, `dog/2.png`), optionally inside split folders ' +
      '(`train/`, `val/` or `valid/` or `validation/`, `test/`) and top folders; images at the top, or right in a split ' +
      'folder (not among class folders), are unlabeled. ' +
      'Multilabel: the same folders (one label each; a picture in several gets all their labels), and CSV files whose first column is `filename` followed by one ' +
      "column per label holding 1 or 0 (Roboflow's multi-label `_classes.csv`): each row gives its image (next to the CSV) " +
      'the labels of its 1 columns; a CSV in a split folder sets the split; a row whose image is not in the zip is MISSING_FILE. ' +
      'Detection: COCO JSON (`images` with width and height, `annotations` with pixel `bbox` [x, y, width, height], ' +
      '`categories`) and the images it names, next to it or else by the end of their path (a name that several files of ' +
      'the zip end with is AMBIGUOUS_FILE); a JSON file in a `train/`, `valid/` or `test/` folder, or named so ' +
      '(`instances_val2017.json`), sets the split. Other JSON files (an object with neither `images` nor `categories`, ' +
      "as Roboflow's README.dataset.json or per-image sidecars) are ignored; one with them that is not valid COCO, or a " +
      '.json file that cannot be parsed, is 400 INVALID_ARCHIVE naming it. ' +
      'Every image goes through the same checks as an upload (each `created`, `duplicate` or `rejected`); ' +
      `archive limit ${DEFAULT_UPLOAD_LIMITS.IMPORT_MAX_ARCHIVE_BYTES} bytes [IMPORT_MAX_ARCHIVE_BYTES], ` +
      `${DEFAULT_UPLOAD_LIMITS.IMPORT_MAX_FILES} images [IMPORT_MAX_FILES]. The zip is unpacked off the event loop and refused ` +
      '(413 ARCHIVE_TOO_LARGE, ARCHIVE_ENTRY_TOO_LARGE, ARCHIVE_RATIO_EXCEEDED, ARCHIVE_TOO_MANY_ENTRIES) as soon as what it ' +
      'really inflates to passes a limit [ARCHIVE_MAX_INFLATED_BYTES, ARCHIVE_MAX_ENTRY_BYTES, ARCHIVE_MAX_RATIO, ARCHIVE_MAX_ENTRIES]. ' +
      'COCO annotations that cannot be taken as they stand (unknown image or category id, bbox out of the image, empty or ' +
      'too small) are dropped or cut and each one reported: with its image in `annotationIssues`, or in `unmatchedAnnotations`. ' +
      '201 when everything was taken as sent; 207 when some images were rejected or some annotations reported; ' +
      '400 when no image can be taken (nothing is written, no label created). ' +
      `${IMAGE_QUOTA_DESCRIPTION} Every image of the archive counts, checked before any is decoded or a label created.`,
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
  @ApiErrors(400, 401, 404, 413, 415, 422)
  async import(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: ImportDatasetDto,
    @ReceivedUpload() archive: UploadedFile | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ImportResultDto> {
    const result = await this.commands.execute(
      new ImportDataset(projectId, archive, body.split, body.createLabels ?? true, { ...context, userId: user.id }),
    );
    const rejected = result.items.some((item) => item.status === 'rejected');
    const reported =
      result.unmatchedAnnotations.length > 0 || result.items.some((item) => item.annotationIssues?.length);
    response.status(rejected || reported ? 207 : 201);
    return result;
  }
}
