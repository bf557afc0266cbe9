import { Controller, HttpCode, Logger, Param, Post, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { PassThrough } from 'node:stream';
import { ApiErrors, type AuthenticatedUser, ClientGone, CurrentUser, UuidParam } from '@diyml/core';
import { ProjectExporter } from './project-exporter.js';

/**
 * The attachment's file name, named after the project: in full as UTF-8 (filename*, RFC 6266, which browsers
 * use), and in ASCII letters alone for older clients (a name in another script then reads 'project').
 */
function archiveDisposition(name: string, exportedAt: string): string {
  const day = exportedAt.slice(0, 10);
  const ascii =
    name
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'project';
  // Whole characters (an emoji is two UTF-16 units); no separators, control characters nor lone surrogates.
  const full = Array.from(name.replace(/[/\\\p{Cc}\p{Cs}]+/gu, '-'))
    .slice(0, 100)
    .join('');
  // RFC 5987 takes neither ' ( ) * unencoded, which encodeURIComponent leaves.
  const encoded = encodeURIComponent(`${full}-${day}.diyml.zip`).replace(
    /['()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}-${day}.diyml.zip"; filename*=UTF-8''${encoded}`;
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/export')
export class ExportProjectController {
  private readonly logger = new Logger(ExportProjectController.name);

  constructor(private readonly exporter: ProjectExporter) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'exportProject',
    summary: 'Export the whole project as one zip, to import into another installation',
    description:
      'The answer is the archive itself, streamed as it is written (no job to poll, nothing kept on the server): ' +
      "diyml-project.json (what it is: the project's name and type, counts, the blobs), events/NNNNNN.jsonl (every event of the " +
      "project's streams in log order, with its time) and blobs/<sha256> (images, dataset manifests, models, evaluations " +
      'and embedding tables the events reference). The server holds the events and one blob at a time, however many ' +
      'images and models there are. Deployment API keys are never exported (only their hashes are stored, and the import replaces ' +
      'those). POST /v1/projects/import reads it back; it accepts archives up to IMPORT_MAX_ARCHIVE_BYTES that unpack ' +
      'within the ARCHIVE_MAX_* limits.',
  })
  @ApiProduces('application/zip')
  @ApiOkResponse({ description: 'The project archive (zip).', schema: { type: 'string', format: 'binary' } })
  @ApiErrors(400, 401, 404)
  async export(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
    @ClientGone() signal: AbortSignal,
  ): Promise<StreamableFile> {
    const content = await this.exporter.collect(projectId, user.id, signal);
    const out = new PassThrough();
    // A client that goes away stops the export, rather than leaving it waiting for room in the stream.
    response.on('close', () => out.destroy());
    this.exporter.write(content, out).catch((error: unknown) => {
      // The status line is sent: a broken stream is how the client learns the archive is incomplete.
      if (!response.writableFinished)
        this.logger.warn(`Export of project ${projectId} stopped: ${(error as Error).message}`);
      out.destroy(error as Error);
    });
    return new StreamableFile(out, {
      type: 'application/zip',
      disposition: archiveDisposition(content.manifest.project.name, content.manifest.exportedAt),
    });
  }
}
