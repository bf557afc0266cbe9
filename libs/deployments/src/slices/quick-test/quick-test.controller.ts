import { Controller, HttpCode, Param, Post, Query, Req, UseInterceptors } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, CurrentUser, UuidParam } from '@diyml/core';
import { DomainError } from '@diyml/core/pure';
import { ProjectAccess } from '@diyml/projects';
import { IterationQueries } from '@diyml/training';
import type { PredictRequest } from '../predict/deployment-key.guard.js';
import { PredictionDto, PredictQueryDto } from '../predict/predict.controller.js';
import { PredictionImageInterceptor } from '../predict/prediction-image.interceptor.js';
import { PredictionService } from '../predict/prediction.service.js';

export class QuickTestResultDto {
  @ApiProperty({ format: 'uuid' }) iterationId: string;
  @ApiProperty({ type: [PredictionDto], description: 'Most probable first.' }) predictions: PredictionDto[];
}

/**
 * Custom Vision's "Quick test": what a trained iteration says about one photo, before (or without) deploying it.
 * Nothing is stored or counted: the photo is the owner's, tried on their own model.
 */
@ApiTags('training')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/iterations/:iterationId/quick-test')
export class QuickTestController {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly iterations: IterationQueries,
    private readonly predictions: PredictionService,
  ) {}

  @Post()
  @HttpCode(200)
  @UseInterceptors(PredictionImageInterceptor)
  @ApiOperation({
    operationId: 'quickTestIteration',
    summary: 'Predict one photo with a trained iteration, deployed or not; nothing is stored',
    description:
      'The image as the raw body (image/*) or the multipart field `image`, with the limits of /v1/predict. ' +
      '409 ITERATION_NOT_COMPLETED for an iteration without a model.',
  })
  @ApiConsumes('image/png', 'image/jpeg', 'image/webp', 'multipart/form-data')
  @ApiBody({
    schema: {
      oneOf: [
        { type: 'string', format: 'binary', description: 'The image bytes.' },
        { type: 'object', required: ['image'], properties: { image: { type: 'string', format: 'binary' } } },
      ],
    },
  })
  @ApiOkResponse({ type: QuickTestResultDto })
  @ApiErrors(400, 401, 404, 409, 413, 415)
  async quickTest(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() query: PredictQueryDto,
    @Req() request: PredictRequest,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<QuickTestResultDto> {
    await this.projects.getOwned(projectId, user.id);
    const iteration = await this.iterations.get(projectId, iterationId);
    if (iteration.status !== 'completed' || !iteration.model) {
      throw DomainError.conflict(
        'ITERATION_NOT_COMPLETED',
        `${iteration.name} is ${iteration.status}: only a trained iteration can be tested.`,
      );
    }
    const labels = iteration.labels.map((label) => label.name);
    const predictions = await this.predictions.predict(iteration.model.sha256, labels, request.predictionImage!, query);
    return { iterationId: iteration.id, predictions };
  }
}
