import { Controller, HttpCode, Param, Post, Req, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Clock, IdGenerator, requestContextOf } from '../../../../core/src/index.js';
import { DEPLOYMENT_KEY_CALLER, DeploymentSettings } from '../../../../deployments/src/index.js';
import { PredictionKeeper } from '../../../../deployments/src/slices/store-prediction/prediction-keeper.js';
import { trackUsage } from '../../../../deployments/src/slices/usage-reports/track-usage.js';
import { UsageRecorder } from '../../../../deployments/src/slices/usage-reports/usage-recorder.js';
import { PredictionService } from '../../../../deployments/src/slices/predict/prediction.service.js';
import { Public } from '../../../../identity/src/index.js';
import type { ProjectType } from '../../../../projects/src/index.js';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { toCvPredictions } from '../../domain/image-prediction.js';
import type { CvImagePrediction } from '../../domain/shapes.js';
import { PREDICTION_BASE } from '../../http/custom-vision-controller.js';
import { CustomVisionExceptionFilter } from '../../http/custom-vision-exception.filter.js';
import { readImages } from '../../http/image-data.js';
import { JsonPrimitivesInterceptor } from '../../http/json-primitives.interceptor.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import { PREDICTION_API_VERSIONS, PredictionKeyGuard, type PredictionRequest } from './prediction-key.guard.js';

/**
 * The Custom Vision Prediction API on published iterations (deployments): classify and detect, stored (the
 * deployment's prediction store, on by default for published iterations; the answer's id is the stored
 * prediction's) or not (…/nostore). Images come as multipart (part imageData) or as the raw body.
 */
@Public()
@UseGuards(PredictionKeyGuard)
@UseFilters(CustomVisionExceptionFilter)
@UseInterceptors(JsonPrimitivesInterceptor)
@ApiTags('custom-vision prediction')
@ApiSecurity('prediction-key')
@ApiParam({ name: 'version', enum: [...PREDICTION_API_VERSIONS] })
@Controller(`${PREDICTION_BASE}/:projectId`)
export class PredictController {
  constructor(
    private readonly predictions: PredictionService,
    private readonly reads: CustomVisionReads,
    private readonly settings: DeploymentSettings,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly keeper: PredictionKeeper,
    private readonly usage: UsageRecorder,
  ) {}

  @Post('classify/iterations/:publishedName/image')
  @HttpCode(200)
  @ApiOperation({ summary: 'Custom Vision: classify an image with a published iteration' })
  classify(@Param('publishedName') _name: string, @Req() request: PredictionRequest): Promise<CvImagePrediction> {
    return this.predict(request, 'classification', true);
  }

  @Post('classify/iterations/:publishedName/image/nostore')
  @HttpCode(200)
  @ApiOperation({ summary: 'Custom Vision: classify an image without storing it' })
  classifyNoStore(@Param('publishedName') _name: string, @Req() request: PredictionRequest): Promise<CvImagePrediction> {
    return this.predict(request, 'classification');
  }

  @Post('detect/iterations/:publishedName/image')
  @HttpCode(200)
  @ApiOperation({ summary: 'Custom Vision: detect objects in an image with a published iteration' })
  detect(@Param('publishedName') _name: string, @Req() request: PredictionRequest): Promise<CvImagePrediction> {
    return this.predict(request, 'detection', true);
  }

  @Post('detect/iterations/:publishedName/image/nostore')
  @HttpCode(200)
  @ApiOperation({ summary: 'Custom Vision: detect objects without storing the image' })
  detectNoStore(@Param('publishedName') _name: string, @Req() request: PredictionRequest): Promise<CvImagePrediction> {
    return this.predict(request, 'detection');
  }

  /** `store`: the …/image routes keep the prediction when the deployment's store is on; …/nostore never does. */
  private async predict(request: PredictionRequest, task: ProjectType, store = false): Promise<CvImagePrediction> {
    const { project, deployment } = request.published!;
    trackUsage(this.usage, this.clock, request.res!, {
      projectId: project.id,
      deploymentId: deployment.id,
      callerId: request.user?.id ?? DEPLOYMENT_KEY_CALLER,
    });
    if (project.type !== task) {
      throw CustomVisionError.badRequest(
        'BadRequestNotSupported',
        `Project ${project.id} is a ${project.type} project: use the ${project.type === 'classification' ? 'classify' : 'detect'} endpoint.`,
      );
    }
    const [image] = await readImages(request, this.settings.PREDICT_MAX_IMAGE_BYTES);
    if (!image) throw CustomVisionError.badRequest('BadRequestImageStream', 'Send the image in the multipart part imageData or as the body.');
    const iteration = await this.reads.iteration(project.id, deployment.iterationId);
    const predictions = await this.predictions.predict(deployment.modelSha256, deployment.labels, image.data, {});
    const id =
      store && this.keeper.keeps(deployment)
        ? await this.keeper.keep(deployment, image.data, predictions, { userId: request.user?.id ?? null, correlationId: requestContextOf(request).correlationId })
        : this.ids.newId();
    return {
      id,
      project: project.id,
      iteration: deployment.iterationId,
      created: this.clock.now().toISOString(),
      predictions: toCvPredictions(predictions, iteration.labels),
    };
  }
}
