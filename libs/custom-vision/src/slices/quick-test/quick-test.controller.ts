import { Body, Controller, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import { type AuthenticatedUser, Clock, CurrentUser, IdGenerator, UrlFetcher, UuidParam } from '@diyml/core';
import { DeploymentSettings } from '@diyml/deployments';
import { PredictionService } from '@diyml/deployments';
import type { IterationView } from '@diyml/training';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { negativeLabelIdOf, toCvPredictions } from '../../domain/image-prediction.js';
import type { CvImagePrediction } from '../../domain/shapes.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE } from '../../http/custom-vision-controller.js';
import { IMAGE_DATA_REQUEST_BODY, readImages, withinPredictionLimit } from '../../http/image-data.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import { CvImagePredictionDto } from '../../http/custom-vision.dto.js';
import { CvImageUrlDto } from '../predict/predict.dto.js';
import { CvQuickTestQueryDto } from './quick-test.dto.js';

type TrainedIteration = IterationView & { model: NonNullable<IterationView['model']> };

/** Predicts with any trained iteration, published or not (PredictionService on the iteration's model). */
@CustomVisionTrainingController()
@CustomVisionErrors(400)
@Controller(`${TRAINING_BASE}/projects/:projectId/quicktest`)
export class QuickTestController {
  constructor(
    private readonly reads: CustomVisionReads,
    private readonly predictions: PredictionService,
    private readonly settings: DeploymentSettings,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly fetcher: UrlFetcher,
  ) {}

  @Post('image')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_QuickTestImage',
    requestBody: IMAGE_DATA_REQUEST_BODY,
    summary:
      'Custom Vision: quick test an image (multipart imageData; ?iterationId=, default the newest trained iteration)',
    description: 'store=true is accepted; the image is not kept.',
  })
  @ApiOkResponse({ type: CvImagePredictionDto })
  async quickTest(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvQuickTestQueryDto,
    @Req() request: Request,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvImagePrediction> {
    const project = await this.reads.project(projectId, user.id);
    const iteration = await this.trainedIteration(projectId, query.iterationId);
    const [image] = await readImages(request, this.settings.PREDICT_MAX_IMAGE_BYTES);
    if (!image)
      throw CustomVisionError.badRequest('BadRequestImageStream', 'Send the image in the multipart part imageData.');
    return this.quickTestWith(iteration, image.data, negativeLabelIdOf(project));
  }

  @Post('url')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_QuickTestImageUrl',
    summary:
      'Custom Vision: quick test an image fetched from a URL ({url}; ?iterationId=, default the newest trained iteration)',
    description:
      'The URL is fetched with the limits and address checks of POST /v1/projects/{projectId}/images/urls; the image is not kept.',
  })
  @ApiOkResponse({ type: CvImagePredictionDto })
  async quickTestUrl(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvQuickTestQueryDto,
    @Body() body: CvImageUrlDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvImagePrediction> {
    const project = await this.reads.project(projectId, user.id);
    const iteration = await this.trainedIteration(projectId, query.iterationId);
    const fetched = await this.fetcher.fetch(body.url.trim());
    return this.quickTestWith(
      iteration,
      withinPredictionLimit(fetched.bytes, this.settings.PREDICT_MAX_IMAGE_BYTES),
      negativeLabelIdOf(project),
    );
  }

  /** The iteration asked for, or the newest trained one. */
  private async trainedIteration(projectId: string, wanted: string | undefined): Promise<TrainedIteration> {
    const iteration = wanted
      ? await this.reads.iteration(projectId, wanted.toLowerCase())
      : (await this.reads.allIterations(projectId)).find((candidate) => candidate.status === 'completed');
    if (!iteration)
      throw CustomVisionError.notFound('NotFoundProjectDefaultIteration', 'The project has no trained iteration yet.');
    if (iteration.status !== 'completed' || !iteration.model) {
      throw CustomVisionError.badRequest(
        'BadRequestIterationIsNotTrained',
        `Iteration ${iteration.id} is not trained (it is ${iteration.status}).`,
      );
    }
    return { ...iteration, model: iteration.model };
  }

  private async quickTestWith(
    iteration: TrainedIteration,
    bytes: Buffer,
    negativeLabelId: string | null,
  ): Promise<CvImagePrediction> {
    const names = iteration.labels.map((label) => label.name);
    const predictions = await this.predictions.predict(iteration.model.sha256, names, bytes, {});
    return {
      id: this.ids.newId(),
      project: iteration.projectId,
      iteration: iteration.id,
      created: this.clock.now().toISOString(),
      predictions: toCvPredictions(predictions, iteration.labels, negativeLabelId),
    };
  }
}
