import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { uploadLimitsProvider } from '../../datasets/src/index.js';
import { ProjectAccess } from '../../projects/src/index.js';
import { IterationQueuer } from '../../training/src/index.js';
import { deploymentSettingsProvider } from './deployment-settings.js';
import { ModelCache } from './inference/model-cache.js';
import { ModelEvictionReactor } from './inference/model-eviction.reactor.js';
import { DeploymentQueries } from './read-models/deployments/deployment-queries.js';
import { DeploymentsProjection } from './read-models/deployments/deployments.projection.js';
import { DeployModelHandler } from './slices/deploy-model/deploy-model.handler.js';
import { DeploymentsController } from './slices/deployments.controller.js';
import { ImportModelController } from './slices/import-model/import-model.controller.js';
import { ImportModelHandler } from './slices/import-model/import-model.handler.js';
import { DeploymentKeyGuard } from './slices/predict/deployment-key.guard.js';
import { PredictThrottlerGuard, PredictThrottlerStorage } from './slices/predict/predict-throttler.guard.js';
import { PredictController } from './slices/predict/predict.controller.js';
import { PredictionService } from './slices/predict/prediction.service.js';
import { PredictVideoController } from './slices/predict-video/predict-video.controller.js';
import { PredictVideoHandler } from './slices/predict-video/predict-video.handler.js';
import { VideoPredictionJobProcessor, VideoPredictionJobReactor } from './slices/predict-video/video-prediction.job.js';
import { VideoPredictionsProjection } from './slices/predict-video/video-predictions.projection.js';
import { RotateDeploymentKeyHandler } from './slices/rotate-deployment-key/rotate-deployment-key.handler.js';
import { UndeployModelHandler } from './slices/undeploy-model/undeploy-model.handler.js';

/**
 * Deployments (an iteration behind an endpoint and a hashed API key), prediction with cached models, and
 * model import. Needs the BlobStore and the iterations read model (TrainingModule).
 */
@Module({
  imports: [CqrsModule],
  controllers: [DeploymentsController, PredictVideoController, PredictController, ImportModelController],
  providers: [
    ProjectAccess,
    IterationQueuer,
    uploadLimitsProvider,
    deploymentSettingsProvider,
    DeploymentQueries,
    DeploymentsProjection,
    ModelCache,
    ModelEvictionReactor,
    PredictionService,
    DeploymentKeyGuard,
    PredictThrottlerStorage,
    PredictThrottlerGuard,
    DeployModelHandler,
    RotateDeploymentKeyHandler,
    UndeployModelHandler,
    ImportModelHandler,
    PredictVideoHandler,
    VideoPredictionsProjection,
    VideoPredictionJobReactor,
    VideoPredictionJobProcessor,
  ],
  exports: [DeploymentQueries, ModelCache],
})
export class DeploymentsModule {}

/** The worker process predicts videos through deployments. */
@Module({ providers: [VideoPredictionJobProcessor] })
export class DeploymentsWorkerModule {}
