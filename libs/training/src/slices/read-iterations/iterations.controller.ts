import { Controller, Get, Param, Query, Req, Res, Sse, type MessageEvent } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  distinctUntilChanged,
  endWith,
  filter,
  finalize,
  from,
  ignoreElements,
  interval,
  map,
  merge,
  type Observable,
  ReplaySubject,
  share,
  startWith,
  switchMap,
  takeUntil,
  takeWhile,
} from 'rxjs';
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
import { JobQueue } from '@diyml/jobs';
import { ProjectAccess } from '@diyml/projects';
import { parseBatchProgress } from '../../jobs/batch-progress.js';
import { ApiMetricsWithApResponse } from './metrics.dto.js';
import { type MetricsWithAp, metricsWithApOf } from '../../jobs/metrics-with-ap.js';
import { parsePreparationProgress } from '../../jobs/preparation-progress.js';
import { TRAINING_QUEUE } from '../../jobs/training-job.processor.js';
import { metricsOptionsFor, parseEvaluation } from '../../jobs/evaluation.js';
import { IterationQueries } from '../../read-models/iterations/iteration-queries.js';
import {
  BatchProgressDto,
  IterationDto,
  IterationPageDto,
  PreparationProgressDto,
  toIterationDto,
} from './iteration.dto.js';
import { MetricsQueryDto } from './metrics-query.dto.js';
import { contentCodingFor, SerializedIterations } from './serialized-iterations.js';

const ITERATION_POLL_MS = 250;
const FINISHED = ['completed', 'failed', 'cancelled'];
/**
 * Event streams one user may hold open in this process. 900 streams of one fresh account on a training iteration
 * held /health for 6.5 s and grew the api to 786 MB: every change of the iteration (up to 80 KB at 500 epochs) is
 * written to each of them.
 */
export const EVENT_STREAMS_PER_USER = 20;
/**
 * Characters of events that may wait for a client that does not read them before its stream is dropped (an
 * EventSource reconnects): a few whole iterations, where Nest's default (4 M per stream) let a client that never
 * reads hold megabytes on each of its connections.
 */
const MAX_PENDING_EVENT_CHARACTERS = 256 * 1024;

/** The job's transient progress as an SSE event of its type; null when this release does not read it. */
function toProgressEvent(
  reported: Record<string, unknown> | null,
): { type: 'preparation'; data: PreparationProgressDto } | { type: 'batch'; data: BatchProgressDto } | null {
  const preparation = parsePreparationProgress(reported);
  if (preparation) {
    const { v: _, ...data } = preparation;
    return { type: 'preparation', data };
  }
  const batch = parseBatchProgress(reported);
  if (batch) {
    const { v: _, ...data } = batch;
    return { type: 'batch', data };
  }
  return null;
}

@ApiTags('training')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/iterations')
export class IterationsController {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly iterations: IterationQueries,
    private readonly blobs: BlobStore,
    private readonly jobs: JobQueue,
  ) {}

  /** The `iteration` events of each watched iteration: one poll, serialized once, however many streams watch it. */
  private readonly watched = new Map<string, Observable<MessageEvent>>();
  /** Open event streams by user. */
  private readonly openStreams = new Map<string, number>();
  /** GET answers, serialized and compressed once per revision of each iteration. */
  private readonly serialized = new SerializedIterations();

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
  @ApiOperation({
    operationId: 'getIteration',
    summary: 'An iteration: status, progress, loss curves, metrics',
    description:
      'The ETag names the revision of the iteration: send it back as If-None-Match to get 304 without a body while ' +
      'it is unchanged (a browser does so for a cached answer).',
  })
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'The ETag of an earlier answer, e.g. W/"12".' })
  @ApiOkResponse({
    type: IterationDto,
    headers: { ETag: { description: 'The revision of the iteration, e.g. W/"12".', schema: { type: 'string' } } },
  })
  @ApiResponse({ status: 304, description: 'The iteration is unchanged since the ETag sent in If-None-Match.' })
  @ApiErrors(400, 401, 404)
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    await this.projects.getOwned(projectId, user.id);
    const iteration = await this.iterations.get(projectId, iterationId);
    setEtag(response, iteration.revision);
    // Answered before anything is serialized: Express compares If-None-Match with the ETag just set.
    if (request.fresh) {
      response.status(304).end();
      return;
    }
    const serialized = this.serialized.of(iteration);
    const coding = contentCodingFor(request);
    response.vary('Accept-Encoding');
    response.type('application/json; charset=utf-8');
    if (coding !== 'identity') {
      // The compression middleware leaves an answer that names its Content-Encoding as it is.
      response.setHeader('Content-Encoding', coding);
      response.send(await serialized.encoded(coding));
    } else {
      response.send(serialized.json);
    }
  }

  @Sse(':iterationId/events', { maxPendingDataLength: MAX_PENDING_EVENT_CHARACTERS })
  @ApiOperation({
    operationId: 'streamIterationEvents',
    summary: 'Live progress as Server-Sent Events',
    description:
      'Three event types. `iteration`: the whole iteration (IterationDto) each time it changes (a new status, an ' +
      'epoch completed); the stream ends after the final status. `preparation`: progress before the first epoch ' +
      '(PreparationProgressDto: reading, decoding, then computing backbone embeddings or feature maps, i of n, ' +
      'per second, cached). `batch`: progress within the epoch being trained (BatchProgressDto: batch i of n, ' +
      'images per second, photos per batch, training and validation images). Both progress types come at most 4 a second and are transient (never events of the ' +
      'iteration, from whichever process trains it); a client connecting mid-phase gets the latest one at once. ' +
      `At most ${EVENT_STREAMS_PER_USER} streams open per user (429 TOO_MANY_EVENT_STREAMS); a client that stops ` +
      'reading has its stream closed (an EventSource reconnects).',
  })
  @ApiExtraModels(IterationDto, PreparationProgressDto, BatchProgressDto)
  @ApiOkResponse({
    description: "An event stream; each event's `data` is the JSON of its type.",
    content: {
      'text/event-stream': {
        schema: {
          oneOf: [
            { $ref: getSchemaPath(IterationDto) },
            { $ref: getSchemaPath(PreparationProgressDto) },
            { $ref: getSchemaPath(BatchProgressDto) },
          ],
        },
      },
    },
  })
  @ApiProduces('text/event-stream')
  @ApiErrors(400, 401, 404, 429)
  async events(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<Observable<MessageEvent>> {
    await this.projects.getOwned(projectId, user.id);
    await this.iterations.get(projectId, iterationId);
    const open = this.openStreams.get(user.id) ?? 0;
    if (open >= EVENT_STREAMS_PER_USER) {
      throw new DomainError(
        'rate-limited',
        'TOO_MANY_EVENT_STREAMS',
        `You have ${open} event streams open, the most one user may: close one (another tab or client) first.`,
        { maxStreams: EVENT_STREAMS_PER_USER },
      );
    }
    this.openStreams.set(user.id, open + 1);
    // Counted until the connection's answer closes: the stream ended, the client left, or it never started.
    response.once('close', () => {
      const left = (this.openStreams.get(user.id) ?? 1) - 1;
      if (left > 0) this.openStreams.set(user.id, left);
      else this.openStreams.delete(user.id);
    });
    const iterations = this.iterationEvents(projectId, iterationId);
    // Pushed as reported, not polled: a phase shorter than a poll (a warm thread prepares a small set at once) is seen.
    const progress = this.jobs.watchProgress(TRAINING_QUEUE, iterationId).pipe(
      map(toProgressEvent),
      filter((event) => event !== null),
      distinctUntilChanged((a, b) => a.data.reportedAt === b.data.reportedAt),
      takeUntil(iterations.pipe(ignoreElements(), endWith(null))),
    );
    return merge(iterations, progress);
  }

  private iterationEvents(projectId: string, iterationId: string): Observable<MessageEvent> {
    const key = `${projectId}/${iterationId}`;
    const kept = this.watched.get(key);
    if (kept) return kept;
    const events = interval(ITERATION_POLL_MS).pipe(
      startWith(0),
      switchMap(() => from(this.iterations.get(projectId, iterationId))),
      distinctUntilChanged((a, b) => a.revision === b.revision),
      takeWhile((iteration) => !FINISHED.includes(iteration.status), true),
      // A string is written as it is: Nest would serialize an object again for every stream.
      map((iteration) => ({
        type: 'iteration',
        id: String(iteration.revision),
        data: JSON.stringify(toIterationDto(iteration)),
      })),
      finalize(() => this.watched.delete(key)),
      // A stream that joins gets the latest state at once, then the changes.
      share({ connector: () => new ReplaySubject<MessageEvent>(1) }),
    );
    this.watched.set(key, events);
    return events;
  }

  @Get(':iterationId/metrics')
  @ApiOperation({
    operationId: 'getIterationMetrics',
    summary: 'Validation metrics at a probability threshold (and IoU threshold for detection)',
  })
  @ApiMetricsWithApResponse('The metrics of the validation images at these thresholds; `task` tells which kind.')
  @ApiErrors(400, 401, 404, 409)
  async metrics(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() query: MetricsQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<MetricsWithAp> {
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
    return metricsWithApOf(evaluation, metricsOptionsFor(evaluation.task, query));
  }
}
