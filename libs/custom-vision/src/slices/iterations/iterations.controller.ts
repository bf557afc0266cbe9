import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiNoContentResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import { BlobStore } from '@diyml/blobs';
import { type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { DeleteIteration, type IterationView, parseEvaluation, RenameIteration } from '@diyml/training';
import { QueueIteration } from '@diyml/training';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { EXPORT_PLATFORMS } from '../../domain/domains.js';
import { iterationPerformance } from '../../domain/performance.js';
import { type CvIteration, toCvIteration } from '../../domain/shapes.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE, userContext } from '../../http/custom-vision-controller.js';
import { baseUrlOf } from '../../http/query.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import { CvIterationDto } from '../../http/custom-vision.dto.js';
import {
  CvExportDto,
  CvExportIterationQueryDto,
  CvIterationPerformanceDto,
  CvIterationPerformanceQueryDto,
  CvTrainingParametersDto,
  CvTrainProjectQueryDto,
  CvUpdateIterationDto,
} from './iterations.dto.js';

/** Azure's defaults: a prediction counts from probability 0.5; a box matches from IoU 0.3. */
export const DEFAULT_THRESHOLD = 0.5;
export const DEFAULT_OVERLAP_THRESHOLD = 0.3;

function assertTrained(iteration: IterationView): void {
  if (iteration.status !== 'completed') {
    throw CustomVisionError.badRequest(
      'BadRequestIterationIsNotTrained',
      `Iteration ${iteration.id} is not trained (it is ${iteration.status}).`,
    );
  }
}

/** Training (QueueIteration), iterations and their performance (IterationQueries, stored evaluation), export. */
@CustomVisionTrainingController()
@CustomVisionErrors(400)
@Controller(`${TRAINING_BASE}/projects/:projectId`)
export class IterationsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly reads: CustomVisionReads,
    private readonly blobs: BlobStore,
  ) {}

  @Post('train')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_TrainProject',
    summary: "Custom Vision: train the project (queues an iteration with the project's training configuration)",
    description:
      'trainingType, reservedBudgetInHours, forceTrain, notificationEmailAddress and the TrainingParameters body are accepted and not used.',
  })
  @ApiOkResponse({ type: CvIterationDto })
  @ApiBody({ type: CvTrainingParametersDto, required: false })
  async train(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() _query: CvTrainProjectQueryDto,
    @Body() _parameters: CvTrainingParametersDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<CvIteration> {
    const project = await this.reads.project(projectId, user.id);
    const iteration: IterationView = await this.commands.execute(
      new QueueIteration(projectId, undefined, userContext(context, user)),
    );
    return toCvIteration(iteration, project, null);
  }

  @Get('iterations')
  @ApiOperation({
    operationId: 'CustomVision_GetIterations',
    summary: "Custom Vision: the project's iterations, newest first",
  })
  @ApiOkResponse({ type: [CvIterationDto] })
  async list(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvIteration[]> {
    const project = await this.reads.project(projectId, user.id);
    const names = await this.reads.publishNames(projectId);
    return (await this.reads.allIterations(projectId)).map((iteration) =>
      toCvIteration(iteration, project, names.get(iteration.id) ?? null),
    );
  }

  @Get('iterations/:iterationId')
  @ApiOperation({
    operationId: 'CustomVision_GetIteration',
    summary: 'Custom Vision: an iteration (status Training, Completed or Failed)',
  })
  @ApiOkResponse({ type: CvIterationDto })
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvIteration> {
    const project = await this.reads.project(projectId, user.id);
    const iteration = await this.reads.iteration(projectId, iterationId);
    return toCvIteration(iteration, project, (await this.reads.publishNames(projectId)).get(iteration.id) ?? null);
  }

  @Patch('iterations/:iterationId')
  @ApiOperation({
    operationId: 'CustomVision_UpdateIteration',
    summary: 'Custom Vision: rename an iteration ({name}; the other fields of the Iteration body are ignored)',
  })
  @ApiOkResponse({ type: CvIterationDto })
  async update(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Body() body: CvUpdateIterationDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<CvIteration> {
    const project = await this.reads.project(projectId, user.id);
    const name = body.name.trim();
    const iteration: IterationView = await this.commands.execute(
      new RenameIteration(projectId, iterationId, name, userContext(context, user)),
    );
    return toCvIteration(iteration, project, (await this.reads.publishNames(projectId)).get(iteration.id) ?? null);
  }

  @Delete('iterations/:iterationId')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'CustomVision_DeleteIteration',
    summary: 'Custom Vision: delete an iteration (BadRequestIterationIsPublished while published: unpublish it first)',
  })
  @ApiNoContentResponse()
  async delete(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.reads.project(projectId, user.id);
    await this.commands.execute(new DeleteIteration(projectId, iterationId, userContext(context, user)));
  }

  @Get('iterations/:iterationId/performance')
  @ApiOperation({
    operationId: 'CustomVision_GetIterationPerformance',
    summary: 'Custom Vision: precision, recall and average precision per tag (?threshold=0.5&overlapThreshold=0.3)',
  })
  @ApiOkResponse({ type: CvIterationPerformanceDto })
  async performance(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() query: CvIterationPerformanceQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvIterationPerformanceDto> {
    await this.reads.project(projectId, user.id);
    const iteration = await this.reads.iteration(projectId, iterationId);
    assertTrained(iteration);
    if (!iteration.evaluationSha256) {
      throw CustomVisionError.notFound(
        'NotFoundIterationPerformance',
        'The iteration had no validation images, so it has no performance.',
      );
    }
    const evaluation = parseEvaluation(await this.blobs.get(iteration.evaluationSha256));
    return iterationPerformance(evaluation, iteration.labels, {
      threshold: query.threshold ?? DEFAULT_THRESHOLD,
      overlapThreshold: query.overlapThreshold ?? DEFAULT_OVERLAP_THRESHOLD,
    });
  }

  @Post('iterations/:iterationId/export')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_ExportIteration',
    summary:
      'Custom Vision: export an iteration (?platform=TensorFlow or ONNX): a TensorFlow.js archive or an ONNX file, ready at once',
  })
  @ApiOkResponse({ type: CvExportDto })
  async export(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() query: CvExportIterationQueryDto,
    @Req() request: Request,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvExportDto> {
    await this.reads.project(projectId, user.id);
    const target = EXPORT_PLATFORMS.find((entry) => entry.platform === query.platform)!;
    const iteration = await this.reads.iteration(projectId, iterationId);
    assertTrained(iteration);
    return this.exportOf(iteration, request, target);
  }

  @Get('iterations/:iterationId/export')
  @ApiOperation({
    operationId: 'CustomVision_GetExports',
    summary: "Custom Vision: an iteration's exports (a TensorFlow.js archive and an ONNX file once trained)",
  })
  @ApiOkResponse({ type: [CvExportDto] })
  async exports(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Req() request: Request,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvExportDto[]> {
    await this.reads.project(projectId, user.id);
    const iteration = await this.reads.iteration(projectId, iterationId);
    return iteration.status === 'completed'
      ? EXPORT_PLATFORMS.map((target) => this.exportOf(iteration, request, target))
      : [];
  }

  private exportOf(iteration: IterationView, request: Request, target: (typeof EXPORT_PLATFORMS)[number]): CvExportDto {
    return {
      platform: target.platform,
      status: 'Done',
      downloadUri: `${baseUrlOf(request)}/v1/projects/${iteration.projectId}/iterations/${iteration.id}/model?format=${target.format}`,
      flavor: target.flavor,
      newerVersionAvailable: false,
    };
  }
}
