import { Body, Controller, Get, Headers, HttpCode, Param, Post, Res, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { rm } from 'node:fs/promises';
import type { UploadedFile } from '@diyml/datasets';
import {
  ApiErrorDto,
  ApiErrors,
  type AuthenticatedUser,
  Ctx,
  CurrentUser,
  DomainError,
  type RequestContext,
  UuidParam,
} from '@diyml/core';
import { ARCHIVE_FIELD, ArchiveUploadInterceptor, ReceivedArchive } from './archive-upload.interceptor.js';
import { ImportedProjectDto, ImportProjectDto, ProjectImportStatusDto } from './import-project.dto.js';
import { ImportProject } from './import-project.handler.js';
import { ProjectImportErrors } from './project-archive-reader.js';
import { ProjectImports } from './project-imports.js';

/** Archives from this size on are imported in the background (202); smaller ones answer when done (201). */
export const BACKGROUND_IMPORT_BYTES = 64 * 1024 * 1024;

const STATUS_PATH = (importId: string) => `/v1/projects/imports/${importId}`;

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/projects')
export class ImportProjectController {
  constructor(
    private readonly commands: CommandBus,
    private readonly imports: ProjectImports,
  ) {}

  @Post('import')
  @HttpCode(201)
  @UseInterceptors(ArchiveUploadInterceptor)
  @ApiOperation({
    operationId: 'importProject',
    summary: 'Import a project exported by POST /v1/projects/{projectId}/export (from this or another installation)',
    description:
      'The project is created anew, owned by you: new ids for it and for everything in it (labels, images, iterations, ' +
      'test runs, deployments), replaced consistently in every event and in the dataset manifests. Its history is kept: ' +
      'the same events in the same order with their original times, recorded as done by you in this request (its ' +
      'correlation id), after a ProjectImported event naming the source project. Images, models, metrics and manifests ' +
      'are byte for byte the same (manifests differ only by the ids they name). Deployment keys are not carried: every ' +
      'active deployment gets a new key, listed once in the answer. The answer counts what the new project holds ' +
      '(`contents`: images, labels, labels on images, regions, iterations, deployments) and what the archive carried ' +
      'that was not imported (`skipped`).\n\n' +
      'The upload goes to a temporary file (never into memory), the zip is read through its central directory (ZIP64: ' +
      'over 4 GiB or 65,535 entries) and its blobs are streamed one at a time, each checked against its sha256, so an ' +
      'archive larger than memory imports. An archive under 64 MiB answers 201 when imported; a larger one, or any with ' +
      '`Prefer: respond-async`, answers 202 at once with the status of the import, to poll at the `Location` ' +
      '(GET /v1/projects/imports/{importId}).\n\n' +
      'Nothing is written unless the whole archive is valid (a refused archive may leave blobs it carried in the ' +
      'content-addressed store, referenced by nothing): 400 ARCHIVE_REQUIRED, INVALID_ARCHIVE (not a zip, truncated, ' +
      'or a damaged central directory), NOT_A_PROJECT_ARCHIVE (another zip), UNSUPPORTED_PROJECT_ARCHIVE_VERSION, ' +
      'CORRUPT_PROJECT_ARCHIVE (a damaged or altered archive, a blob whose bytes do not match its name, or events of ' +
      'another project or of a user: `details` names the event or entry), INCOMPLETE_PROJECT_ARCHIVE (referenced blobs ' +
      'missing); 422 UNKNOWN_EVENT_VERSIONS (exported by a newer diyml: events of a type or version this installation ' +
      'does not know, named in `details.unknownEvents`; update, then import again); 413 FILE_TOO_LARGE over ' +
      'IMPORT_MAX_ARCHIVE_BYTES (at once when Content-Length says so), ARCHIVE_TOO_LARGE / ARCHIVE_ENTRY_TOO_LARGE / ' +
      'ARCHIVE_RATIO_EXCEEDED / ARCHIVE_TOO_MANY_ENTRIES past the ARCHIVE_MAX_* limits, counted on the bytes really ' +
      'inflated. In the background, the same refusals end the import as failed with that code.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: [ARCHIVE_FIELD],
      properties: { [ARCHIVE_FIELD]: { type: 'string', format: 'binary' }, name: { type: 'string', maxLength: 100 } },
    },
  })
  @ApiHeader({
    name: 'Prefer',
    required: false,
    description: '`respond-async`: import in the background whatever the size (202).',
  })
  @ApiCreatedResponse({ type: ImportedProjectDto, description: 'Imported (archives under 64 MiB).' })
  @ApiAcceptedResponse({
    type: ProjectImportStatusDto,
    description:
      'Importing in the background (archives of 64 MiB or more, or `Prefer: respond-async`): poll the `Location`.',
    headers: { Location: { description: 'GET /v1/projects/imports/{importId}', schema: { type: 'string' } } },
  })
  @ApiErrors(400, 401, 422)
  @ApiResponse({
    status: 413,
    type: ApiErrorDto,
    description: 'FILE_TOO_LARGE (over IMPORT_MAX_ARCHIVE_BYTES) or an ARCHIVE_* limit passed while inflating.',
    example: {
      statusCode: 413,
      code: 'ARCHIVE_RATIO_EXCEEDED',
      message: 'events/000001.jsonl unpacks to more than 200 times its compressed size: refused as a zip bomb.',
      details: { path: 'events/000001.jsonl', maxRatio: 200 },
    },
  })
  async import(
    @ReceivedArchive() archive: UploadedFile | undefined,
    @Body() body: ImportProjectDto,
    @Headers('prefer') prefer: string | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ImportedProjectDto | ProjectImportStatusDto> {
    if (!archive) {
      throw DomainError.validation(
        ProjectImportErrors.ARCHIVE_REQUIRED,
        `Send the project archive (zip) in the multipart field "${ARCHIVE_FIELD}".`,
      );
    }
    const importContext = { ...context, userId: user.id };
    if (archive.size < BACKGROUND_IMPORT_BYTES && !/\brespond-async\b/i.test(prefer ?? ''))
      return this.commands.execute(new ImportProject({ path: archive.path }, body.name, importContext));
    const path = archive.handOver();
    const status = await this.imports.start(
      importContext,
      archive.size,
      (onProgress) => this.commands.execute(new ImportProject({ path }, body.name, importContext, onProgress)),
      () => rm(path, { force: true }),
    );
    response.status(202).setHeader('Location', STATUS_PATH(status.id));
    return status;
  }

  @Get('imports/:importId')
  @ApiOperation({
    operationId: 'getProjectImport',
    summary:
      'The status of a project import answered with 202: pending (with its progress), done (with the new project) or failed (with the error)',
    description:
      'done: `projectId`, and in the first read that reports done only, `imported` (what a 201 answers, with the ' +
      'deployments’ new keys: copy them then, they are not shown again). failed: `error` holds the code and message a ' +
      'synchronous import would have answered (e.g. CORRUPT_PROJECT_ARCHIVE), or IMPORT_INTERRUPTED when the api ' +
      'running it stopped first (recorded at its next start; with several apis sharing a database, by any of them ' +
      'within about a minute). Statuses are recorded as events: every api answers the same, after restarts too.',
  })
  @ApiOkResponse({ type: ProjectImportStatusDto })
  @ApiErrors(400, 401, 404)
  status(
    @Param('importId', UuidParam('importId')) importId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<ProjectImportStatusDto> {
    return this.imports.read(importId, user.id);
  }
}
