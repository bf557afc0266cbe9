import { Controller, Delete, Get, HttpCode, Param, Query, Res, StreamableFile } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import sharp from 'sharp';
import { BlobStore } from '@diyml/blobs';
import {
  ApiErrors,
  type AuthenticatedUser,
  Ctx,
  CurrentUser,
  type RequestContext,
  Settings,
  UuidParam,
} from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import { ProjectionRunner } from '@diyml/read-store';
import { IterationQueries } from '@diyml/training';
import { labelsByIteration, nameByIteration } from '../../read-models/stored-predictions/labels-by-iteration.js';
import { StoredPredictionQueries } from '../../read-models/stored-predictions/stored-prediction-queries.js';
import { PredictionKeeper } from '../store-prediction/prediction-keeper.js';
import {
  ListStoredPredictionsQueryDto,
  StoredPredictionDto,
  StoredPredictionPageDto,
  toStoredPredictionDto,
} from './stored-prediction.dto.js';

const CONTENT_TYPES: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tiff: 'image/tiff',
  avif: 'image/avif',
};

/** The predictions a project's deployments stored: list and filter, look at, delete. */
@ApiTags('stored predictions')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/predictions')
export class StoredPredictionsController {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly stored: StoredPredictionQueries,
    private readonly blobs: BlobStore,
    private readonly keeper: PredictionKeeper,
    private readonly projections: ProjectionRunner,
    private readonly settings: Settings,
    private readonly iterations: IterationQueries,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'listStoredPredictions',
    summary:
      "The project's stored predictions, newest first, filtered by deployment, label, probability range and time",
    description:
      'Predictions are stored by deployments whose prediction store is on (PUT …/deployments/{id}/prediction-store), ' +
      'within its retention limits (written just after the prediction is answered; this list waits for what this server answered). With `label`, the probability range applies to that label; without, to the top prediction. ' +
      '`label` is a label of the project by its name now or its id (predictions made before a rename name it as it was then), or a name a removed label had.',
  })
  @ApiOkResponse({ type: StoredPredictionPageDto })
  @ApiErrors(400, 401, 404)
  async list(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: ListStoredPredictionsQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<StoredPredictionPageDto> {
    const project = await this.projects.getOwned(projectId, user.id);
    await this.keeper.written();
    const { limit, cursor, label, ...filter } = query;
    const labelsOf = await labelsByIteration(this.iterations, projectId, project.labels);
    const current = label
      ? project.labels.find((candidate) => candidate.id === label.toLowerCase() || candidate.name === label)
      : undefined;
    const labelIn = current ? nameByIteration(labelsOf, current.id) : label && (() => label);
    const page = await this.stored.list(
      projectId,
      { ...filter, ...(labelIn ? { label: labelIn } : {}) },
      { limit: limit ?? 50, cursor },
    );
    const projectLabelIds = new Set(project.labels.map((candidate) => candidate.id));
    return {
      items: page.items.map((view) => toStoredPredictionDto(view, labelsOf(view.iterationId), projectLabelIds)),
      nextCursor: page.nextCursor,
    };
  }

  @Get(':predictionId')
  @ApiOperation({ operationId: 'getStoredPrediction', summary: 'A stored prediction' })
  @ApiOkResponse({ type: StoredPredictionDto })
  @ApiErrors(400, 401, 404)
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('predictionId', UuidParam('predictionId')) predictionId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<StoredPredictionDto> {
    const project = await this.projects.getOwned(projectId, user.id);
    await this.keeper.written();
    const view = await this.stored.get(projectId, predictionId);
    const labelsOf = await labelsByIteration(this.iterations, projectId, project.labels);
    return toStoredPredictionDto(view, labelsOf(view.iterationId), new Set(project.labels.map((label) => label.id)));
  }

  @Get(':predictionId/image')
  @ApiOperation({
    operationId: 'getStoredPredictionImage',
    summary: 'The image of a stored prediction, as it was sent',
  })
  @ApiProduces(...Object.values(CONTENT_TYPES))
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiErrors(400, 401, 404)
  async image(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('predictionId', UuidParam('predictionId')) predictionId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StreamableFile> {
    await this.projects.getOwned(projectId, user.id);
    await this.keeper.written();
    const view = await this.stored.get(projectId, predictionId);
    const bytes = await this.blobs.get(view.imageSha256);
    const format = await sharp(bytes)
      .metadata()
      .then(
        (metadata) => metadata.format as string,
        () => '',
      );
    response.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    return new StreamableFile(bytes, {
      type: CONTENT_TYPES[format] ?? 'application/octet-stream',
      length: bytes.length,
    });
  }

  @Delete(':predictionId')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteStoredPrediction',
    summary: 'Delete a stored prediction (a dataset image promoted from it stays)',
  })
  @ApiNoContentResponse()
  @ApiErrors(400, 401, 404)
  async delete(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('predictionId', UuidParam('predictionId')) predictionId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.projects.getOwned(projectId, user.id);
    await this.keeper.written();
    await this.stored.get(projectId, predictionId);
    const position = await this.keeper.delete(predictionId, { ...context, userId: user.id });
    await this.projections.waitFor(position, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
  }
}
