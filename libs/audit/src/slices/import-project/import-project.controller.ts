import { Body, Controller, HttpCode, Post, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, DomainError, type RequestContext } from '@diyml/core';
import { MultipartFiles, type ReceivedFile, ReceivedFiles } from '@diyml/datasets';
import { ImportedProjectDto, ImportProjectDto } from './import-project.dto.js';
import { ImportProject } from './import-project.handler.js';
import { ProjectImportErrors } from './project-archive-reader.js';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/projects/import')
export class ImportProjectController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(201)
  @UseInterceptors(MultipartFiles({ field: 'archive', kind: 'archive' }))
  @ApiOperation({
    operationId: 'importProject',
    summary: 'Import a project exported by POST /v1/projects/{projectId}/export (from this or another installation)',
    description:
      'The project is created anew, owned by you: new ids for it and for everything in it (labels, images, iterations, ' +
      'test runs, deployments), replaced consistently in every event and in the dataset manifests. Its history is kept: ' +
      'the same events in the same order with their original times, recorded as done by you in this request (its ' +
      'correlation id), after a ProjectImported event naming the source project. Images, models, metrics and manifests ' +
      'are byte for byte the same (manifests differ only by the ids they name). Deployment keys are not carried: every ' +
      'active deployment gets a new key, listed once in the answer. Nothing is written unless the whole archive is ' +
      'valid: 400 ARCHIVE_REQUIRED, INVALID_ARCHIVE (not a zip), NOT_A_PROJECT_ARCHIVE (another zip), ' +
      'UNSUPPORTED_PROJECT_ARCHIVE_VERSION, CORRUPT_PROJECT_ARCHIVE (a damaged or altered archive, or events of another ' +
      'project or of a user: `details` names the event or entry), INCOMPLETE_PROJECT_ARCHIVE (referenced blobs missing); ' +
      '422 UNKNOWN_EVENT_VERSIONS (exported by a newer diyml: events of a type or version this installation does not know, ' +
      'named in `details.unknownEvents`; update, then import again); 413 FILE_TOO_LARGE over IMPORT_MAX_ARCHIVE_BYTES, ' +
      'ARCHIVE_TOO_LARGE / ARCHIVE_ENTRY_TOO_LARGE / ARCHIVE_RATIO_EXCEEDED / ARCHIVE_TOO_MANY_ENTRIES past the ' +
      'ARCHIVE_MAX_* limits (the archive is unpacked off the event loop and held in memory while it is imported).',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['archive'],
      properties: { archive: { type: 'string', format: 'binary' }, name: { type: 'string', maxLength: 100 } },
    },
  })
  @ApiCreatedResponse({ type: ImportedProjectDto })
  @ApiErrors(400, 401, 413, 422)
  async import(
    @ReceivedFiles() files: ReceivedFile[],
    @Body() body: ImportProjectDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<ImportedProjectDto> {
    const file = files[0];
    if (!file)
      throw DomainError.validation(
        ProjectImportErrors.ARCHIVE_REQUIRED,
        'Send the project archive (zip) in the multipart field "archive".',
      );
    if (!file.buffer) {
      throw new DomainError(
        'too-large',
        'FILE_TOO_LARGE',
        `The archive ${file.filename} is over IMPORT_MAX_ARCHIVE_BYTES.`,
      );
    }
    return this.commands.execute(
      new ImportProject(new Uint8Array(file.buffer), body.name, { ...context, userId: user.id }),
    );
  }
}
