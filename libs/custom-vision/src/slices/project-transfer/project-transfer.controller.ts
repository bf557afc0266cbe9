import { Controller, Get, HttpCode, Param, Post, Query, StreamableFile } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import { Writable } from 'node:stream';
import { ImportProject } from '@diyml/audit';
import { ProjectImportErrors } from '@diyml/audit';
import { ProjectExporter } from '@diyml/audit';
import type { ImportedProjectDto } from '@diyml/audit';
import { BlobStore, isSha256 } from '@diyml/blobs';
import {
  ArchiveErrors,
  type AuthenticatedUser,
  Ctx,
  CurrentUser,
  isDomainError,
  type RequestContext,
  UuidParam,
} from '@diyml/core';
import { UploadLimits } from '@diyml/datasets';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { type CvProject, toCvProject } from '../../domain/shapes.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE, userContext } from '../../http/custom-vision-controller.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import { CvProjectDto } from '../../http/custom-vision.dto.js';
import { CvArtifactQueryDto, CvImportProjectQueryDto, CvProjectExportDto } from './project-transfer.dto.js';

/** Roughly what an import costs per event and per blob: 800 images (1,603 events) took 11.8 s on two busy cores. */
const IMPORT_MS_PER_EVENT = 5;
const IMPORT_MS_PER_BLOB = 5;

/**
 * Archive refusals of an import: with a token, they mean the token does not name an export. An export of a newer
 * installation sharing this blob store is one, and its refusal says so.
 */
const NOT_AN_EXPORT = new Set<string>([
  ...Object.values(ProjectImportErrors).filter((code) => code !== ProjectImportErrors.UNKNOWN_EVENT_VERSIONS),
  ArchiveErrors.INVALID_ARCHIVE,
]);

/** Artifact paths: what the `*Uri` fields of Custom Vision would name relative to the project. */
const IMAGE_ARTIFACT = /^images\/([0-9a-f-]{36})$/i;
const MODEL_ARTIFACT = /^iterations\/([0-9a-f-]{36})\/model$/i;

/** Collects a stream in memory up to a limit: an export Custom Vision clients fetch by token is held whole. */
class BoundedSink extends Writable {
  readonly chunks: Uint8Array[] = [];
  size = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _write(chunk: Uint8Array, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.size += chunk.byteLength;
    if (this.size > this.maxBytes) {
      callback(
        CustomVisionError.badRequest(
          'BadRequestExportValidationFailed',
          `The project exports to more than IMPORT_MAX_ARCHIVE_BYTES (${this.maxBytes} bytes), so it could not be imported by token: download it with POST /v1/projects/{projectId}/export.`,
        ),
      );
      return;
    }
    this.chunks.push(chunk);
    callback();
  }
}

/**
 * ExportProject / ImportProject / GetArtifact, on the audit context's project archive. The export is stored as a
 * blob (content-addressed) and its sha256 is the token: like Azure's, it lets whoever holds it import a copy of
 * the project (on this installation, or on any that shares its blob store); the copy has new ids and new
 * deployment keys. Tokens do not expire while the blob is kept.
 */
@CustomVisionTrainingController()
@CustomVisionErrors(400)
@Controller(TRAINING_BASE)
export class ProjectTransferController {
  constructor(
    private readonly exporter: ProjectExporter,
    private readonly commands: CommandBus,
    private readonly reads: CustomVisionReads,
    private readonly blobs: BlobStore,
    private readonly limits: UploadLimits,
  ) {}

  @Get('projects/:projectId/export')
  @ApiOperation({
    operationId: 'CustomVision_ExportProject',
    summary: 'Custom Vision: export the project; the token imports it (ImportProject)',
    description: `The archive is the one POST /v1/projects/{projectId}/export streams, kept on the server; at most IMPORT_MAX_ARCHIVE_BYTES.`,
  })
  @ApiOkResponse({ type: CvProjectExportDto })
  async export(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvProjectExportDto> {
    const content = await this.exporter.collect(projectId, user.id);
    const sink = new BoundedSink(this.limits.IMPORT_MAX_ARCHIVE_BYTES);
    const finished = new Promise<void>((resolve, reject) => {
      sink.on('finish', resolve);
      sink.on('error', reject);
    });
    await Promise.all([this.exporter.write(content, sink), finished]);
    const stored = await this.blobs.put(Buffer.concat(sink.chunks));
    const { summary, events, blobs } = content.manifest;
    return {
      iterationCount: summary.iterations,
      imageCount: summary.images,
      tagCount: summary.labels,
      regionCount: summary.regions,
      estimatedImportTimeInMS: events * IMPORT_MS_PER_EVENT + blobs.length * IMPORT_MS_PER_BLOB,
      token: stored.sha256,
    };
  }

  @Post('projects/import')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_ImportProject',
    summary: 'Custom Vision: import a project from an ExportProject token (?token=&name=)',
  })
  @ApiOkResponse({ type: CvProjectDto, description: 'The new project.' })
  async import(
    @Query() { token, name }: CvImportProjectQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<CvProject> {
    const sha256 = token.trim().toLowerCase();
    const invalidToken = () =>
      CustomVisionError.badRequest(
        'BadRequestInvalidImportToken',
        'The token does not name a project export: get one from ExportProject.',
      );
    if (!isSha256(sha256) || !(await this.blobs.has(sha256))) throw invalidToken();
    const newName = name?.trim() || undefined;
    let imported: ImportedProjectDto;
    try {
      imported = await this.commands.execute(
        new ImportProject(new Uint8Array(await this.blobs.get(sha256)), newName, userContext(context, user)),
      );
    } catch (error) {
      if (isDomainError(error) && NOT_AN_EXPORT.has(error.code)) throw invalidToken();
      throw error;
    }
    return toCvProject(await this.reads.project(imported.project.id, user.id));
  }

  @Get('projects/:projectId/artifacts')
  @ApiOperation({
    operationId: 'CustomVision_GetArtifact',
    summary: 'Custom Vision: an artifact of the project by its relative path (?path=)',
    description:
      'images/{imageId}: the original image bytes; iterations/{iterationId}/model: the trained model (TensorFlow.js zip).',
  })
  @ApiOkResponse({
    description: 'The image (its own image/* type) or the model archive (application/zip).',
    schema: { type: 'string', format: 'binary' },
  })
  @ApiProduces('application/octet-stream')
  async artifact(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() { path }: CvArtifactQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<StreamableFile> {
    await this.reads.project(projectId, user.id);
    const relative = path.trim().replace(/^\/+/, '');
    const imageId = IMAGE_ARTIFACT.exec(relative)?.[1];
    if (imageId) {
      const image = await this.reads.image(projectId, imageId.toLowerCase());
      return new StreamableFile(await this.blobs.get(image.sha256), {
        type: `image/${image.format}`,
        length: image.bytes,
      });
    }
    const iterationId = MODEL_ARTIFACT.exec(relative)?.[1];
    if (iterationId) {
      const iteration = await this.reads.iteration(projectId, iterationId.toLowerCase());
      if (!iteration.model) {
        throw CustomVisionError.badRequest(
          'BadRequestIterationIsNotTrained',
          `Iteration ${iteration.id} has no model (it is ${iteration.status}).`,
        );
      }
      return new StreamableFile(await this.blobs.get(iteration.model.sha256), {
        type: 'application/zip',
        length: iteration.model.bytes,
      });
    }
    throw CustomVisionError.badRequest(
      'BadRequestInvalidArtifactUri',
      `No artifact at "${relative}": paths are images/{imageId} or iterations/{iterationId}/model.`,
    );
  }
}
