import { Controller, HttpCode, Param, Post, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '../../../../core/src/index.js';
import { MultipartFiles, type ReceivedFile, ReceivedFiles } from '../../../../datasets/src/upload/multipart.interceptor.js';
import { IterationDto, toIterationDto } from '../../../../training/src/index.js';
import { ImportModel } from './import-model.handler.js';

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
      'The new iteration has ' +
      '`imported: true`, no metrics, and can be deployed and tested like a trained one. Size limit: IMPORT_MAX_ARCHIVE_BYTES.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', required: ['model'], properties: { model: { type: 'string', format: 'binary' } } } })
  @ApiCreatedResponse({ type: IterationDto })
  @ApiErrors(400, 401, 404, 413, 422)
  async import(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @ReceivedFiles() files: ReceivedFile[],
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<IterationDto> {
    return toIterationDto(await this.commands.execute(new ImportModel(projectId, files, { ...context, userId: user.id })));
  }
}
