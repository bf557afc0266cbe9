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
    summary: 'Import a model as a new, completed iteration',
    description:
      'A zip as GET …/iterations/{id}/model exports it (model.json, weights.bin, metadata.json), or a Teachable ' +
      'Machine image-model export (model.json, weights.bin, metadata.json with its labels). The model must load, ' +
      "be of the project's task (400 MODEL_TASK_MISMATCH) and predict only labels the project has, matched by name " +
      '(400 UNKNOWN_MODEL_LABELS listing the others: labels are not created by an import). The new iteration has ' +
      '`imported: true`, no metrics, and can be deployed and tested like a trained one. Size limit: IMPORT_MAX_ARCHIVE_BYTES.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', required: ['model'], properties: { model: { type: 'string', format: 'binary' } } } })
  @ApiCreatedResponse({ type: IterationDto })
  @ApiErrors(400, 401, 404, 413)
  async import(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @ReceivedFiles() files: ReceivedFile[],
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<IterationDto> {
    return toIterationDto(await this.commands.execute(new ImportModel(projectId, files, { ...context, userId: user.id })));
  }
}
