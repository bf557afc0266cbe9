import {
  Controller,
  createParamDecorator,
  type ExecutionContext,
  HttpCode,
  Param,
  Post,
  UseInterceptors,
} from '@nestjs/common';
import type { Request } from 'express';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { MultipartFiles, ReceivedUpload, type UploadedFile } from '@diyml/datasets';
import { IterationDto, toIterationDto } from '@diyml/training';
import { ImportModel } from './import-model.handler.js';
import type { KerasImportFields } from './model-import.js';

/**
 * The Keras form fields beside the file, read as sent: other form fields are ignored here as before (the
 * handler checks these two and says what to fix).
 */
const KerasFields = createParamDecorator((_: unknown, context: ExecutionContext): KerasImportFields => {
  const body = (context.switchToHttp().getRequest<Request>().body ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { labels: text(body.labels), inputRange: text(body.inputRange) };
});

@ApiTags('training')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/models')
export class ImportModelController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(201)
  @UseInterceptors(MultipartFiles({ field: 'model', kind: 'archive' }))
  @ApiOperation({
    operationId: 'importModel',
    summary: 'Import a model as a new, completed iteration',
    description:
      'A zip as GET …/iterations/{id}/model exports it (model.json, weights.bin, metadata.json), or a Teachable ' +
      'Machine image-model export (model.json, weights.bin, metadata.json with its labels). The model must load, ' +
      "be of the project's task (400 MODEL_TASK_MISMATCH) and predict only labels the project has, matched by name " +
      '(400 UNKNOWN_MODEL_LABELS listing the others: labels are not created by an import). The zip is unpacked off the ' +
      'event loop within the archive limits (413 ARCHIVE_TOO_LARGE, ARCHIVE_ENTRY_TOO_LARGE, ARCHIVE_RATIO_EXCEEDED, ' +
      'ARCHIVE_TOO_MANY_ENTRIES); the weight files must hold exactly the bytes model.json describes (422 ' +
      'MODEL_WEIGHTS_MISMATCH); the model is loaded and tried on a blank image of its declared input size (at most ' +
      'MODEL_MAX_INPUT_PIXELS) on a worker thread, and every weight must be finite (422 MODEL_INVALID with the reason). ' +
      'A Keras model is accepted too: Keras 2 `.h5` (model.save("m.h5")) or Keras 3 `.keras`, with its class names in ' +
      'the field `labels` (400 MODEL_LABELS_MISSING without) and optionally `inputRange`; its layers are mapped onto ' +
      'TensorFlow.js (400 KERAS_UNSUPPORTED_LAYER naming the first layer type diyml cannot run; 400 KERAS_NOT_A_MODEL for ' +
      'an HDF5 file that holds no model, such as weights only; 400 KERAS_MODEL_INVALID when its weights do not fit its layers). ' +
      'The new iteration has ' +
      '`imported: true`, no metrics, and can be deployed and tested like a trained one. Size limit: IMPORT_MAX_ARCHIVE_BYTES.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['model'],
      properties: {
        model: {
          type: 'string',
          format: 'binary',
          description: 'A model zip, a Keras 2 .h5 or a Keras 3 .keras file.',
        },
        labels: {
          type: 'string',
          description:
            'Keras files: class names in model-output order: a JSON array, one a line (a labels.txt, as curl -F "labels=<labels.txt" sends it; ' +
            'Teachable Machine\'s numbered "0 cat" lines too) or comma-separated.',
        },
        inputRange: { type: 'string', description: 'Keras files: the input pixel range "low,high" (default "0,255").' },
      },
    },
  })
  @ApiCreatedResponse({ type: IterationDto })
  @ApiErrors(400, 401, 404, 413, 422)
  async import(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @ReceivedUpload() model: UploadedFile | undefined,
    @KerasFields() keras: KerasImportFields,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<IterationDto> {
    return toIterationDto(
      await this.commands.execute(new ImportModel(projectId, model, { ...context, userId: user.id }, keras)),
    );
  }
}
