import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseIntPipe,
  Post,
  Query,
  Res,
  StreamableFile,
  UseInterceptors,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiPropertyOptional,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import sharp from 'sharp';
import { BlobStore } from '@diyml/blobs';
import {
  ApiErrors,
  type AuthenticatedUser,
  Ctx,
  CurrentUser,
  DomainError,
  PageQueryDto,
  type RequestContext,
  UuidParam,
} from '@diyml/core';
import { ImageThumbnails } from '@diyml/datasets';
import { ThumbnailQueryDto } from '@diyml/datasets';
import { AnnotationIssueDto, MultipartFiles, type ReceivedFile, ReceivedFiles } from '@diyml/datasets';
import { ProjectAccess } from '@diyml/projects';
import {
  ApiMetricsWithApResponse,
  MetricsQueryDto,
  type MetricsWithAp,
  metricsWithApOf,
  metricsOptionsFor,
  parseEvaluation,
  withAveragePrecision,
  withClassificationAveragePrecision,
} from '@diyml/training';
import { parseTestManifest, type TestImage, type TestPrediction } from '../domain/test-manifest.js';
import { decodeJson } from '../jobs/test-run-results.js';
import { TestRunQueries } from '../read-models/test-runs/test-run-queries.js';
import type { TestRunView } from '../read-models/test-runs/test-run.view.js';
import { CancelTestRun } from './cancel-test-run/cancel-test-run.handler.js';
import { RequestTestRun } from './request-test-run/request-test-run.handler.js';
import { TestRunDto, TestRunPageDto, toTestRunDto } from './test-run.dto.js';

const COCO_FIELD_DESCRIPTION =
  'Multipart requests to a detection iteration, instead of `labels`: a COCO JSON file as text (`images` with ' +
  '`file_name`, `width`, `height`; `annotations` with pixel `bbox` [x, y, width, height]; `categories`), read as a ' +
  "dataset import reads it. A file sent is found by its `file_name` (or the name after its last '/'); images of " +
  'the file not sent are not needed. At most 64 KiB.';

export class RequestTestRunDto {
  @ApiPropertyOptional({
    enum: ['test'],
    description: "JSON requests: test on the project's images in the test split.",
  })
  @IsOptional()
  @IsIn(['test'])
  split?: 'test';

  @ApiPropertyOptional({
    description:
      'Multipart requests: JSON object mapping each file name to its label name (classification) or to its regions ' +
      '[{label, x, y, width, height}] in fractions of the image (detection).',
    example: '{"cat-01.jpg": "cat", "dog-07.jpg": "dog"}',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64 * 1024)
  labels?: string;

  @ApiPropertyOptional({ description: COCO_FIELD_DESCRIPTION })
  @IsOptional()
  @IsString()
  @MaxLength(64 * 1024)
  coco?: string;
}

export class TestAnnotationIssueDto extends AnnotationIssueDto {
  @ApiPropertyOptional({ example: 'fork_18.jpg', description: 'The file sent it is about (absent: no image listed).' })
  filename?: string;
}

export class RequestedTestRunDto extends TestRunDto {
  @ApiPropertyOptional({
    type: [TestAnnotationIssueDto],
    description:
      'A `coco` field: its annotations of the files sent that were dropped or changed (as a dataset import reports ' +
      'them), and those naming no image of it. Present with status 207.',
  })
  annotationIssues?: TestAnnotationIssueDto[];
}

@ApiTags('evaluation')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/iterations/:iterationId/test-runs')
export class TestRunsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly projects: ProjectAccess,
    private readonly testRuns: TestRunQueries,
    private readonly blobs: BlobStore,
    private readonly thumbnails: ImageThumbnails,
  ) {}

  @Post()
  @HttpCode(202)
  @UseInterceptors(MultipartFiles({ field: 'images', kind: 'images' }))
  @ApiOperation({
    operationId: 'requestTestRun',
    summary: 'Test a completed iteration on a labeled dataset, in the background',
    description:
      'Either multipart: files in `images` and a `labels` JSON field mapping each file name to its label (or regions), ' +
      'or for a detection iteration a `coco` field holding a COCO JSON file; ' +
      'every file is checked like an upload, and a file without an answer, with an unknown label or that is not an ' +
      'image makes the whole request 400 INVALID_TEST_SET naming each. Or JSON `{"split": "test"}`: the project\'s ' +
      'included, labeled images in the test split. 409 ITERATION_NOT_COMPLETED for an iteration without a model. ' +
      'Boxes of a `coco` field outside the image are cut to it, and unusable ones dropped, as a dataset import does: ' +
      'then 207 (instead of 202) with each in `annotationIssues`. Follow with GET …/test-runs/{id}.',
  })
  @ApiConsumes('multipart/form-data', 'application/json')
  @ApiBody({
    schema: {
      oneOf: [
        {
          type: 'object',
          required: ['images', 'labels'],
          properties: {
            images: { type: 'array', items: { type: 'string', format: 'binary' } },
            labels: {
              type: 'string',
              description: 'JSON: {"<file name>": "<label>"} or {"<file name>": [{label, x, y, width, height}]}',
            },
          },
        },
        {
          type: 'object',
          required: ['images', 'coco'],
          properties: {
            images: { type: 'array', items: { type: 'string', format: 'binary' } },
            coco: { type: 'string', description: COCO_FIELD_DESCRIPTION },
          },
        },
        {
          type: 'object',
          required: ['split'],
          properties: {
            split: {
              type: 'string',
              enum: ['test'],
              description: "The project's included, labeled images in the test split.",
            },
          },
        },
      ],
    },
  })
  @ApiAcceptedResponse({ type: TestRunDto })
  @ApiResponse({
    status: 207,
    type: RequestedTestRunDto,
    description: 'Accepted; some annotations of the `coco` field were dropped or changed.',
  })
  @ApiErrors(400, 401, 404, 409, 413, 422)
  async request(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Body() body: RequestTestRunDto,
    @ReceivedFiles() files: ReceivedFile[],
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RequestedTestRunDto> {
    const input =
      files.length === 0 && body.split === 'test'
        ? ({ kind: 'split' } as const)
        : ({ kind: 'upload', files, labels: body.labels, coco: body.coco } as const);
    if (files.length > 0 && body.split !== undefined) {
      throw DomainError.validation(
        'AMBIGUOUS_TEST_SET',
        'Send either files with labels, or {"split": "test"}, not both.',
      );
    }
    const { run, annotationIssues } = await this.commands.execute(
      new RequestTestRun(projectId, iterationId, input, { ...context, userId: user.id }),
    );
    const dto = toTestRunDto(run, await this.metricsWithAp(run));
    if (annotationIssues.length === 0) return dto;
    response.status(207);
    return { ...dto, annotationIssues };
  }

  @Get()
  @ApiOperation({
    operationId: 'listTestRuns',
    summary: "The iteration's test runs, newest first (without per-image predictions)",
  })
  @ApiOkResponse({ type: TestRunPageDto })
  @ApiErrors(400, 401, 404)
  async list(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() page: PageQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<TestRunPageDto> {
    await this.projects.getOwned(projectId, user.id);
    const found = await this.testRuns.list(projectId, iterationId, { limit: page.limit ?? 50, cursor: page.cursor });
    const items = await Promise.all(found.items.map(async (run) => toTestRunDto(run, await this.metricsWithAp(run))));
    return { items, nextCursor: found.nextCursor };
  }

  @Get(':testRunId')
  @ApiOperation({
    operationId: 'getTestRun',
    summary: 'A test run: status, metrics and, once completed, the prediction for every image',
  })
  @ApiOkResponse({ type: TestRunDto })
  @ApiErrors(400, 401, 404)
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Param('testRunId', UuidParam('testRunId')) testRunId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<TestRunDto> {
    await this.projects.getOwned(projectId, user.id);
    const run = await this.testRuns.get(projectId, iterationId, testRunId);
    const predictions = run.predictionsSha256
      ? decodeJson<TestPrediction[]>(await this.blobs.get(run.predictionsSha256))
      : undefined;
    return toTestRunDto(run, await this.metricsWithAp(run), predictions);
  }

  @Get(':testRunId/images/:position')
  @ApiOperation({
    operationId: 'getTestRunImage',
    summary: 'A test image as it was sent (or as the test split held it when the run was requested)',
    description:
      "`position` is the image's index in the run's `predictions` (each prediction's `imageUrl` names it). Uploaded test " +
      'photos are not dataset images: this is the way to see them. 404 TEST_RUN_IMAGE_NOT_FOUND past the last image.',
  })
  @ApiParam({ name: 'position', type: Number, description: 'Index in the test run, from 0.' })
  @ApiProduces('image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiErrors(400, 401, 404)
  async image(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Param('testRunId', UuidParam('testRunId')) testRunId: string,
    @Param('position', ParseIntPipe) position: number,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StreamableFile> {
    const image = await this.testImage(projectId, iterationId, testRunId, position, user.id);
    const bytes = await this.blobs.get(image.sha256);
    const { format } = await sharp(bytes).metadata();
    response.setHeader('ETag', `"${image.sha256}"`);
    response.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    return new StreamableFile(bytes, {
      type: format === 'heif' ? 'image/avif' : `image/${format}`,
      length: bytes.length,
      disposition: `inline; filename*=UTF-8''${encodeURIComponent(image.filename)}`,
    });
  }

  @Get(':testRunId/images/:position/thumbnail')
  @ApiOperation({
    operationId: 'getTestRunImageThumbnail',
    summary: 'A small WebP copy of a test image, as GET …/images/{imageId}/thumbnail makes for dataset images',
    description:
      'Cached by content hash and size (`Cache-Control: private, immutable`). 404 TEST_RUN_IMAGE_NOT_FOUND past the last image.',
  })
  @ApiParam({ name: 'position', type: Number, description: 'Index in the test run, from 0.' })
  @ApiProduces('image/webp')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiErrors(400, 401, 404)
  async thumbnail(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Param('testRunId', UuidParam('testRunId')) testRunId: string,
    @Param('position', ParseIntPipe) position: number,
    @Query() query: ThumbnailQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StreamableFile> {
    const image = await this.testImage(projectId, iterationId, testRunId, position, user.id);
    const size = query.size ?? 256;
    const bytes = await this.thumbnails.get(image.sha256, size);
    response.setHeader('ETag', `"${image.sha256}-${size}"`);
    response.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    return new StreamableFile(bytes, { type: 'image/webp', length: bytes.length });
  }

  /** The run's frozen manifest holds every test image's bytes by hash, in the order of its predictions. */
  private async testImage(
    projectId: string,
    iterationId: string,
    testRunId: string,
    position: number,
    userId: string,
  ): Promise<TestImage> {
    await this.projects.getOwned(projectId, userId);
    const run = await this.testRuns.get(projectId, iterationId, testRunId);
    const image = parseTestManifest(await this.blobs.get(run.manifestSha256)).images[position];
    if (!image) {
      throw DomainError.notFound(
        'TEST_RUN_IMAGE_NOT_FOUND',
        `The test run has ${run.imageCount} image(s): ask for a position from 0 to ${run.imageCount - 1}, the index in its predictions.`,
      );
    }
    return image;
  }

  @Get(':testRunId/metrics')
  @ApiOperation({
    operationId: 'getTestRunMetrics',
    summary: 'Test metrics at another probability threshold (and IoU threshold for detection)',
  })
  @ApiMetricsWithApResponse("The metrics of the test run's images at these thresholds, as …/iterations/{id}/metrics.")
  @ApiErrors(400, 401, 404, 409)
  async metrics(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Param('testRunId', UuidParam('testRunId')) testRunId: string,
    @Query() query: MetricsQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<MetricsWithAp> {
    await this.projects.getOwned(projectId, user.id);
    const run = await this.testRuns.get(projectId, iterationId, testRunId);
    if (!run.evaluationSha256) {
      throw DomainError.conflict(
        'TEST_RUN_NOT_COMPLETED',
        `The test run is ${run.status}: metrics exist once it completes.`,
      );
    }
    const evaluation = parseEvaluation(await this.blobs.get(run.evaluationSha256));
    return metricsWithApOf(evaluation, metricsOptionsFor(evaluation.task, query));
  }

  @Post(':testRunId/cancel')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'cancelTestRun',
    summary: 'Cancel a queued or running test run',
    description:
      'A queued run never starts; a running one stops predicting within a moment and records no metrics. Cancelling ' +
      'a cancelled run again changes nothing; a completed or failed one is 409 TEST_RUN_FINISHED.',
  })
  @ApiOkResponse({ type: TestRunDto })
  @ApiErrors(400, 401, 404, 409)
  async cancel(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Param('testRunId', UuidParam('testRunId')) testRunId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<TestRunDto> {
    const run: TestRunView = await this.commands.execute(
      new CancelTestRun(projectId, iterationId, testRunId, { ...context, userId: user.id }),
    );
    return toTestRunDto(run, await this.metricsWithAp(run));
  }

  /**
   * The run's recorded metrics; a classification's with its average precisions, recorded when it completed, or for
   * runs completed before that, computed from its stored predictions.
   */
  private async metricsWithAp(run: TestRunView): Promise<MetricsWithAp | null> {
    if (!run.metrics || run.metrics.task !== 'classification') return run.metrics;
    if (run.averagePrecision) return withClassificationAveragePrecision(run.metrics, run.averagePrecision);
    // Recorded with the metrics, by the same event.
    if (!run.evaluationSha256) throw new Error(`Test run ${run.id} has metrics but no stored predictions`);
    return withAveragePrecision(run.metrics, parseEvaluation(await this.blobs.get(run.evaluationSha256)));
  }
}
