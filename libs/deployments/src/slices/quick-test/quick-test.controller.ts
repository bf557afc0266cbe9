import { Body, Controller, HttpCode, Param, Post, Query, Req, UseInterceptors } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { ApiErrors, type AuthenticatedUser, CurrentUser, UrlFetcher, UuidParam } from '@diyml/core';
import { DomainError } from '@diyml/core/pure';
import { ProjectAccess } from '@diyml/projects';
import { IterationQueries, type IterationView } from '@diyml/training';
import { DeploymentSettings } from '../../deployment-settings.js';
import type { PredictRequest } from '../predict/deployment-key.guard.js';
import { PredictionDto, PredictQueryDto } from '../predict/predict.controller.js';
import { PredictionImageInterceptor } from '../predict/prediction-image.interceptor.js';
import { PredictionService } from '../predict/prediction.service.js';

export class QuickTestUrlDto {
  @ApiProperty({
    example: 'https://example.com/cat.jpg',
    maxLength: 2048,
    description: "The photo's http or https URL.",
  })
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  url: string;
}

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
    private readonly fetcher: UrlFetcher,
    private readonly settings: DeploymentSettings,
  ) {}

  @Post()
  @HttpCode(200)
  @UseInterceptors(PredictionImageInterceptor)
  @ApiOperation({
    operationId: 'quickTestIteration',
    summary: 'Predict one photo with a trained iteration, deployed or not; nothing is stored',
    description:
      'The image as the raw body (image/*) or the multipart field `image`, with the limits of /v1/predict; ' +
      'POST …/quick-test/url takes the URL of a photo instead. ' +
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
    const iteration = await this.trainedIteration(projectId, iterationId, user);
    return this.predict(iteration, request.predictionImage!, query);
  }

  @Post('url')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'quickTestIterationUrl',
    summary: 'Predict the photo at a URL with a trained iteration, deployed or not; nothing is stored',
    description:
      'The URL is fetched with the limits and address checks of POST /v1/projects/{projectId}/images/urls, and the ' +
      'photo must be within the limits of /v1/predict. A URL that cannot be used is 400 or 422 with its URL_* code ' +
      '(URL_INVALID, URL_ADDRESS_NOT_ALLOWED, URL_TOO_LARGE, URL_NOT_AN_IMAGE, URL_FETCH_FAILED, URL_TIMEOUT, ' +
      'URL_TOO_MANY_REDIRECTS). 409 ITERATION_NOT_COMPLETED for an iteration without a model.',
  })
  @ApiOkResponse({ type: QuickTestResultDto })
  @ApiErrors(400, 401, 404, 409, 422)
  async quickTestUrl(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() query: PredictQueryDto,
    @Body() body: QuickTestUrlDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<QuickTestResultDto> {
    const iteration = await this.trainedIteration(projectId, iterationId, user);
    const { bytes } = await this.fetcher.fetch(body.url.trim(), {
      maxBytes: this.settings.PREDICT_MAX_IMAGE_BYTES,
      setting: 'PREDICT_MAX_IMAGE_BYTES',
    });
    return this.predict(iteration, bytes, query);
  }

  /** Checked before a URL is fetched: a wrong iteration costs no download. */
  private async trainedIteration(projectId: string, iterationId: string, user: AuthenticatedUser) {
    await this.projects.getOwned(projectId, user.id);
    const iteration = await this.iterations.get(projectId, iterationId);
    if (iteration.status !== 'completed' || !iteration.model) {
      throw DomainError.conflict(
        'ITERATION_NOT_COMPLETED',
        `${iteration.name} is ${iteration.status}: only a trained iteration can be tested.`,
      );
    }
    return { ...iteration, model: iteration.model };
  }

  private async predict(
    iteration: IterationView & { model: NonNullable<IterationView['model']> },
    image: Buffer,
    query: PredictQueryDto,
  ): Promise<QuickTestResultDto> {
    const labels = iteration.labels.map((label) => label.name);
    const predictions = await this.predictions.predict(iteration.model.sha256, labels, image, query);
    return { iterationId: iteration.id, predictions };
  }
}
