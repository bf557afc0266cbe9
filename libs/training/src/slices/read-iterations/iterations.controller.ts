import { Controller, Get, Param, Query, Res, Sse, type MessageEvent } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { distinctUntilChanged, from, interval, map, type Observable, startWith, switchMap, takeWhile } from 'rxjs';
import { BlobStore } from '@diyml/blobs';
import {
  ApiErrors,
  type AuthenticatedUser,
  CurrentUser,
  DomainError,
  PageQueryDto,
  setEtag,
  UuidParam,
} from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import { metricsOf, metricsOptionsFor, parseEvaluation } from '../../jobs/evaluation.js';
import { IterationQueries } from '../../read-models/iterations/iteration-queries.js';
import { IterationDto, IterationPageDto, toIterationDto } from './iteration.dto.js';
import { MetricsQueryDto } from './metrics-query.dto.js';

const PROGRESS_POLL_MS = 250;
const FINISHED = ['completed', 'failed', 'cancelled'];

@ApiTags('training')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/iterations')
export class IterationsController {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly iterations: IterationQueries,
    private readonly blobs: BlobStore,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'listIterations', summary: 'List iterations, newest first' })
  @ApiOkResponse({ type: IterationPageDto })
  @ApiErrors(400, 401, 404)
  async list(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() page: PageQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<IterationPageDto> {
    await this.projects.getOwned(projectId, user.id);
    const found = await this.iterations.list(projectId, { limit: page.limit ?? 50, cursor: page.cursor });
    return { items: found.items.map(toIterationDto), nextCursor: found.nextCursor };
  }

  @Get(':iterationId')
  @ApiOperation({ operationId: 'getIteration', summary: 'An iteration: status, progress, loss curves, metrics' })
  @ApiOkResponse({ type: IterationDto })
  @ApiErrors(400, 401, 404)
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<IterationDto> {
    await this.projects.getOwned(projectId, user.id);
    const iteration = await this.iterations.get(projectId, iterationId);
    setEtag(response, iteration.revision);
    return toIterationDto(iteration);
  }

  @Sse(':iterationId/events')
  @ApiOperation({
    operationId: 'streamIterationEvents',
    summary: 'Live progress as Server-Sent Events',
    description:
      'An `iteration` event with the whole iteration each time it changes; the stream ends after the final status.',
  })
  @ApiProduces('text/event-stream')
  @ApiErrors(400, 401, 404)
  async events(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<Observable<MessageEvent>> {
    await this.projects.getOwned(projectId, user.id);
    await this.iterations.get(projectId, iterationId);
    return interval(PROGRESS_POLL_MS).pipe(
      startWith(0),
      switchMap(() => from(this.iterations.get(projectId, iterationId))),
      distinctUntilChanged((a, b) => a.revision === b.revision),
      takeWhile((iteration) => !FINISHED.includes(iteration.status), true),
      map((iteration) => ({ type: 'iteration', id: String(iteration.revision), data: toIterationDto(iteration) })),
    );
  }

  @Get(':iterationId/metrics')
  @ApiOperation({
    operationId: 'getIterationMetrics',
    summary: 'Validation metrics at a probability threshold (and IoU threshold for detection)',
  })
  @ApiOkResponse({
    description:
      '{accuracy, precision, recall, f1, perLabel, confusionMatrix} or, for detection, {precision, recall, f1, perLabel (with ap), map50, map}',
  })
  @ApiErrors(400, 401, 404, 409)
  async metrics(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() query: MetricsQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<Record<string, unknown>> {
    await this.projects.getOwned(projectId, user.id);
    const iteration = await this.iterations.get(projectId, iterationId);
    if (iteration.status !== 'completed') {
      throw DomainError.conflict(
        'ITERATION_NOT_COMPLETED',
        `The iteration is ${iteration.status}: metrics exist once it completes.`,
      );
    }
    if (!iteration.evaluationSha256) {
      throw DomainError.conflict(
        'NO_VALIDATION_DATA',
        'The iteration had no validation images, so there are no metrics.',
      );
    }
    const evaluation = parseEvaluation(await this.blobs.get(iteration.evaluationSha256));
    return metricsOf(evaluation, metricsOptionsFor(evaluation.task, query));
  }
}
