import { Body, Controller, Delete, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import { type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import {
  labelsByIteration,
  nameByIteration,
  StoredPredictionQueries,
  type StoredPredictionView,
} from '@diyml/deployments';
import { PredictionKeeper } from '@diyml/deployments';
import { ProjectionRunner } from '@diyml/read-store';
import { IterationQueries } from '@diyml/training';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { negativeLabelIdOf, toCvPredictions } from '../../domain/image-prediction.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE, userContext } from '../../http/custom-vision-controller.js';
import { baseUrlOf } from '../../http/query.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import {
  CvDeletePredictionQueryDto,
  CvPredictionQueryResultDto,
  CvPredictionQueryTokenInputDto,
  CvStoredImagePredictionDto,
} from './predictions.dto.js';

/** Azure's page size when the query names none. */
const DEFAULT_MAX_COUNT = 50;

/** A date-time as the stored predictions are filtered by it. */
function instantOf(value: string | null | undefined): string | undefined {
  return value ? new Date(value).toISOString() : undefined;
}

/**
 * The stored predictions of a project's published iterations, as Custom Vision's QueryPredictions and
 * DeletePrediction: the same stored predictions as GET /v1/projects/{projectId}/predictions.
 */
@CustomVisionTrainingController()
@CustomVisionErrors(400)
@Controller(`${TRAINING_BASE}/projects/:projectId/predictions`)
export class PredictionsController {
  constructor(
    private readonly reads: CustomVisionReads,
    private readonly stored: StoredPredictionQueries,
    private readonly keeper: PredictionKeeper,
    private readonly projections: ProjectionRunner,
    private readonly iterations: IterationQueries,
  ) {}

  @Post('query')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_QueryPredictions',
    summary:
      'Custom Vision: query stored predictions (PredictionQueryToken: tags with thresholds, iterationId, startTime, endTime, orderBy, maxCount, continuation)',
  })
  @ApiOkResponse({ type: CvPredictionQueryResultDto })
  async query(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() query: CvPredictionQueryTokenInputDto,
    @Req() request: Request,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvPredictionQueryResultDto> {
    const project = await this.reads.project(projectId, user.id);
    await this.keeper.written();
    const maxCount = query.maxCount ?? DEFAULT_MAX_COUNT;
    const labelsOf = await labelsByIteration(this.iterations, projectId, project.labels);
    const labelRanges = (query.tags ?? []).map((tag) => {
      const id = tag.id.toLowerCase();
      if (!project.labels.some((label) => label.id === id))
        throw CustomVisionError.badRequest('BadRequestInvalidIds', `Tag ${tag.id} is not a tag of this project.`);
      return {
        label: nameByIteration(labelsOf, id),
        minProbability: tag.minThreshold,
        maxProbability: tag.maxThreshold,
      };
    });
    const iterationId = query.iterationId?.toLowerCase();
    let page;
    try {
      page = await this.stored.list(
        projectId,
        {
          iterationId,
          labelRanges,
          from: instantOf(query.startTime),
          to: instantOf(query.endTime),
          order: query.orderBy === 'Oldest' ? 'oldest' : 'newest',
        },
        { limit: maxCount, cursor: query.continuation || undefined },
      );
    } catch (error) {
      if ((error as { code?: string }).code === 'INVALID_CURSOR')
        throw CustomVisionError.badRequest('BadRequest', 'continuation is not one this API returned.');
      throw error;
    }
    const baseUrl = baseUrlOf(request);
    return {
      token: { ...query, maxCount, continuation: page.nextCursor ?? '' },
      results: page.items.map((view) => this.toCv(view, labelsOf(view.iterationId), project.labels, baseUrl)),
    };
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    operationId: 'CustomVision_DeletePrediction',
    summary:
      'Custom Vision: delete stored predictions (?ids=a,b; ids that are not stored predictions of the project are ignored)',
  })
  @ApiNoContentResponse()
  async delete(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvDeletePredictionQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.reads.project(projectId, user.id);
    await this.keeper.written();
    const wanted = query.ids;
    if (wanted.length === 0) throw CustomVisionError.badRequest('BadRequestInvalidIds', 'Give 1 to 64 prediction ids.');
    let position = -1;
    for (const id of wanted) {
      const found = await this.stored.get(projectId, id).catch(() => undefined);
      if (found) position = Math.max(position, await this.keeper.delete(id, userContext(context, user)));
    }
    await this.projections.waitFor(position);
  }

  private toCv(
    view: StoredPredictionView,
    labels: readonly { id: string; name: string }[],
    projectLabels: readonly { id: string; negative?: boolean }[],
    baseUrl: string,
  ): CvStoredImagePredictionDto {
    const uri = `${baseUrl}/v1/projects/${view.projectId}/predictions/${view.id}/image`;
    return {
      resizedImageUri: uri,
      thumbnailUri: uri,
      originalImageUri: uri,
      domain: '',
      id: view.id,
      project: view.projectId,
      iteration: view.iterationId,
      created: view.storedAt,
      predictions: toCvPredictions(view.predictions, labels, negativeLabelIdOf({ labels: projectLabels })),
    };
  }
}
