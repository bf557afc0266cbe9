import {
  Body,
  Controller,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  UseFilters,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Clock, IdGenerator, requestContextOf, UrlFetcher } from '@diyml/core';
import { DEPLOYMENT_KEY_CALLER, DeploymentSettings } from '@diyml/deployments';
import { PredictionKeeper } from '@diyml/deployments';
import { trackUsage } from '@diyml/deployments';
import { UsageRecorder } from '@diyml/deployments';
import { PredictionService, PredictThrottlerGuard } from '@diyml/deployments';
import { Public } from '@diyml/identity';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { negativeLabelIdOf, toCvPredictions } from '../../domain/image-prediction.js';
import type { CvImagePrediction } from '../../domain/shapes.js';
import { PREDICTION_BASE } from '../../http/custom-vision-controller.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionExceptionFilter } from '../../http/custom-vision-exception.filter.js';
import { IMAGE_DATA_REQUEST_BODY, readImages, withinPredictionLimit } from '../../http/image-data.js';
import { JsonPrimitivesInterceptor } from '../../http/json-primitives.interceptor.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import { PREDICTION_API_VERSIONS, PredictionKeyGuard, type PredictionRequest } from './prediction-key.guard.js';
import { CvImagePredictionDto } from '../../http/custom-vision.dto.js';
import { CvImageUrlDto, CvPredictQueryDto } from './predict.dto.js';

/** What the storing routes (those without `/nostore`) add to a prediction. */
const STORING_ROUTE =
  "When the deployment's prediction store is on, the image and the answer are on the disk before the answer is sent " +
  '(a local journal, then the log); 503 PREDICTION_NOT_STORED when the journal cannot be written.';

/**
 * The Custom Vision Prediction API on published iterations (deployments): classify and detect, stored (the
 * deployment's prediction store, on by default for published iterations; the answer's id is the stored
 * prediction's) or not (…/nostore). Images come as multipart (part imageData), as the raw body, or as a URL ({url}).
 */
@Public()
@UseGuards(PredictionKeyGuard, PredictThrottlerGuard)
@UseFilters(CustomVisionExceptionFilter)
@UseInterceptors(JsonPrimitivesInterceptor)
@ApiTags('custom-vision prediction')
@ApiSecurity('prediction-key')
@CustomVisionErrors(400, 401, 404, 429)
@ApiParam({ name: 'version', enum: [...PREDICTION_API_VERSIONS] })
@ApiParam({ name: 'projectId', description: 'The project that published the iteration.', type: String, format: 'uuid' })
@Controller(`${PREDICTION_BASE}/:projectId`)
export class PredictController {
  constructor(
    private readonly predictions: PredictionService,
    private readonly reads: CustomVisionReads,
    private readonly settings: DeploymentSettings,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly fetcher: UrlFetcher,
    private readonly keeper: PredictionKeeper,
    private readonly usage: UsageRecorder,
  ) {}

  @Post('classify/iterations/:publishedName/image')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_ClassifyImage',
    requestBody: IMAGE_DATA_REQUEST_BODY,
    summary: 'Custom Vision: classify an image with a published iteration',
    description: STORING_ROUTE,
  })
  @ApiOkResponse({ type: CvImagePredictionDto })
  classify(
    @Param('publishedName') _name: string,
    @Query() _query: CvPredictQueryDto,
    @Req() request: PredictionRequest,
  ): Promise<CvImagePrediction> {
    return this.predict(request, 'classification', true);
  }

  @Post('classify/iterations/:publishedName/image/nostore')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_ClassifyImageWithNoStore',
    requestBody: IMAGE_DATA_REQUEST_BODY,
    summary: 'Custom Vision: classify an image without storing it',
  })
  @ApiOkResponse({ type: CvImagePredictionDto })
  classifyNoStore(
    @Param('publishedName') _name: string,
    @Query() _query: CvPredictQueryDto,
    @Req() request: PredictionRequest,
  ): Promise<CvImagePrediction> {
    return this.predict(request, 'classification');
  }

  @Post('detect/iterations/:publishedName/image')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_DetectImage',
    requestBody: IMAGE_DATA_REQUEST_BODY,
    summary: 'Custom Vision: detect objects in an image with a published iteration',
    description: STORING_ROUTE,
  })
  @ApiOkResponse({ type: CvImagePredictionDto })
  detect(
    @Param('publishedName') _name: string,
    @Query() _query: CvPredictQueryDto,
    @Req() request: PredictionRequest,
  ): Promise<CvImagePrediction> {
    return this.predict(request, 'detection', true);
  }

  @Post('detect/iterations/:publishedName/image/nostore')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_DetectImageWithNoStore',
    requestBody: IMAGE_DATA_REQUEST_BODY,
    summary: 'Custom Vision: detect objects without storing the image',
  })
  @ApiOkResponse({ type: CvImagePredictionDto })
  detectNoStore(
    @Param('publishedName') _name: string,
    @Query() _query: CvPredictQueryDto,
    @Req() request: PredictionRequest,
  ): Promise<CvImagePrediction> {
    return this.predict(request, 'detection');
  }

  @Post('classify/iterations/:publishedName/url')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_ClassifyImageUrl',
    summary: 'Custom Vision: classify an image fetched from a URL ({url}) with a published iteration',
    description: STORING_ROUTE,
  })
  @ApiOkResponse({ type: CvImagePredictionDto })
  classifyUrl(
    @Param('publishedName') _name: string,
    @Query() _query: CvPredictQueryDto,
    @Req() request: PredictionRequest,
    @Body() body: CvImageUrlDto,
  ): Promise<CvImagePrediction> {
    return this.predictUrl(request, body, 'classification', true);
  }

  @Post('classify/iterations/:publishedName/url/nostore')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_ClassifyImageUrlWithNoStore',
    summary: 'Custom Vision: classify an image fetched from a URL ({url}), without storing it',
  })
  @ApiOkResponse({ type: CvImagePredictionDto })
  classifyUrlNoStore(
    @Param('publishedName') _name: string,
    @Query() _query: CvPredictQueryDto,
    @Req() request: PredictionRequest,
    @Body() body: CvImageUrlDto,
  ): Promise<CvImagePrediction> {
    return this.predictUrl(request, body, 'classification');
  }

  @Post('detect/iterations/:publishedName/url')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_DetectImageUrl',
    summary: 'Custom Vision: detect objects in an image fetched from a URL ({url}) with a published iteration',
    description: STORING_ROUTE,
  })
  @ApiOkResponse({ type: CvImagePredictionDto })
  detectUrl(
    @Param('publishedName') _name: string,
    @Query() _query: CvPredictQueryDto,
    @Req() request: PredictionRequest,
    @Body() body: CvImageUrlDto,
  ): Promise<CvImagePrediction> {
    return this.predictUrl(request, body, 'detection', true);
  }

  @Post('detect/iterations/:publishedName/url/nostore')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_DetectImageUrlWithNoStore',
    summary: 'Custom Vision: detect objects in an image fetched from a URL ({url}), without storing it',
  })
  @ApiOkResponse({ type: CvImagePredictionDto })
  detectUrlNoStore(
    @Param('publishedName') _name: string,
    @Query() _query: CvPredictQueryDto,
    @Req() request: PredictionRequest,
    @Body() body: CvImageUrlDto,
  ): Promise<CvImagePrediction> {
    return this.predictUrl(request, body, 'detection');
  }

  /** `store`: the …/image and …/url routes keep the prediction when the deployment's store is on; …/nostore never does. */
  private async predict(
    request: PredictionRequest,
    task: 'classification' | 'detection',
    store = false,
  ): Promise<CvImagePrediction> {
    this.trackUsage(request);
    requireTask(request, task);
    const [image] = await readImages(request, this.settings.PREDICT_MAX_IMAGE_BYTES);
    if (!image)
      throw CustomVisionError.badRequest(
        'BadRequestImageStream',
        'Send the image in the multipart part imageData or as the body.',
      );
    return this.predictOn(request, image.data, store);
  }

  /** The URL is fetched with the limits and address checks of the native images-from-URLs endpoint. */
  private async predictUrl(
    request: PredictionRequest,
    body: CvImageUrlDto,
    task: 'classification' | 'detection',
    store = false,
  ): Promise<CvImagePrediction> {
    this.trackUsage(request);
    requireTask(request, task);
    const fetched = await this.fetcher.fetch(body.url.trim());
    return this.predictOn(request, withinPredictionLimit(fetched.bytes, this.settings.PREDICT_MAX_IMAGE_BYTES), store);
  }

  private trackUsage(request: PredictionRequest): void {
    const { project, deployment } = request.published!;
    trackUsage(this.usage, this.clock, request.res!, {
      projectId: project.id,
      deploymentId: deployment.id,
      callerId: request.user?.id ?? DEPLOYMENT_KEY_CALLER,
    });
  }

  private async predictOn(request: PredictionRequest, sent: Buffer, store: boolean): Promise<CvImagePrediction> {
    const { project, deployment } = request.published!;
    const iteration = await this.reads.iteration(project.id, deployment.iterationId);
    // Converted once (a HEIC photo), so the prediction store keeps the picture predicted on, as /v1/predict does.
    const image = await this.predictions.takenImage(sent);
    const predictions = await this.predictions.predict(deployment.modelSha256, deployment.labels, image, {});
    const id =
      store && this.keeper.keeps(deployment)
        ? await this.keeper.keep(deployment, image, predictions, {
            userId: request.user?.id ?? null,
            correlationId: requestContextOf(request).correlationId,
          })
        : this.ids.newId();
    return {
      id,
      project: project.id,
      iteration: deployment.iterationId,
      created: this.clock.now().toISOString(),
      predictions: toCvPredictions(predictions, iteration.labels, negativeLabelIdOf(project)),
    };
  }
}

/** The classify endpoints serve Multiclass and Multilabel projects, the detect endpoints object detection. */
function requireTask(request: PredictionRequest, task: 'classification' | 'detection'): void {
  const { project } = request.published!;
  if ((project.type === 'detection') !== (task === 'detection')) {
    throw CustomVisionError.badRequest(
      'BadRequestNotSupported',
      `Project ${project.id} is a ${project.type} project: use the ${project.type === 'detection' ? 'detect' : 'classify'} endpoint.`,
    );
  }
}
