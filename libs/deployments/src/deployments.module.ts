import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { UrlFetcher } from '@diyml/core';
import { DatasetQueries, uploadLimitsProvider } from '@diyml/datasets';
import { ImageIntake, ImageQuota } from '@diyml/datasets';
import { ProjectAccess } from '@diyml/projects';
import { IterationQueries, IterationQueuer } from '@diyml/training';
import { deploymentSettingsProvider } from './deployment-settings.js';
import { ModelCache } from './inference/model-cache.js';
import { ModelCacheFollower } from './inference/model-cache-follower.js';
import { ModelEvictionReactor } from './inference/model-eviction.reactor.js';
import { ModelWarmingReactor } from './inference/model-warming.reactor.js';
import { DeploymentQueries } from './read-models/deployments/deployment-queries.js';
import { DeploymentsProjection } from './read-models/deployments/deployments.projection.js';
import { DeployModelHandler } from './slices/deploy-model/deploy-model.handler.js';
import { DeploymentsController } from './slices/deployments.controller.js';
import { ImportModelController } from './slices/import-model/import-model.controller.js';
import { ImportModelHandler } from './slices/import-model/import-model.handler.js';
import { DeploymentKeyGuard } from './slices/predict/deployment-key.guard.js';
import { PredictThrottlerGuard } from './slices/predict/predict-throttler.guard.js';
import { PredictionRateCounts } from './slices/predict/prediction-rate-counts.js';
import { PredictController } from './slices/predict/predict.controller.js';
import { PredictionService } from './slices/predict/prediction.service.js';
import { ProposeRegionsController } from './slices/propose-regions/propose-regions.controller.js';
import { QuickTestController } from './slices/quick-test/quick-test.controller.js';
import { BackboneRegionProposals } from './slices/propose-regions/backbone-region-proposals.js';
import { RegionProposals } from './slices/propose-regions/region-proposals.js';
import { PredictVideoController } from './slices/predict-video/predict-video.controller.js';
import { PredictVideoHandler } from './slices/predict-video/predict-video.handler.js';
import { LostVideoPredictionJobsRecoverer } from './slices/predict-video/video-prediction-job.recoverer.js';
import { VideoPredictionJobProcessor, VideoPredictionJobReactor } from './slices/predict-video/video-prediction.job.js';
import { VideoPredictionsProjection } from './slices/predict-video/video-predictions.projection.js';
import { RotateDeploymentKeyHandler } from './slices/rotate-deployment-key/rotate-deployment-key.handler.js';
import { UndeployModelHandler } from './slices/undeploy-model/undeploy-model.handler.js';
import { SharedModelsProjection } from './read-models/shared-models/shared-models.projection.js';
import { StoredPredictionQueries } from './read-models/stored-predictions/stored-prediction-queries.js';
import { StoredPredictionsProjection } from './read-models/stored-predictions/stored-predictions.projection.js';
import { UsageQueries } from './read-models/usage/usage-queries.js';
import { UsageProjection } from './read-models/usage/usage.projection.js';
import { ConfigurePredictionStoreController } from './slices/configure-prediction-store/configure-prediction-store.controller.js';
import { DeploymentCommandRunner } from './slices/deployment-command.js';
import { PredictionPromoter } from './slices/promote-predictions/prediction-promoter.js';
import { PromotePredictionsController } from './slices/promote-predictions/promote-predictions.controller.js';
import { ShareDeploymentController } from './slices/share-deployment/share-deployment.controller.js';
import { SharedModelGuard, SharedModelsController } from './slices/shared-models/shared-models.controller.js';
import { SharedPredictThrottlerGuard } from './slices/shared-models/shared-predict-throttler.guard.js';
import { PredictionImageReclaimer } from './slices/store-prediction/prediction-image-reclaimer.js';
import { PredictionKeeper } from './slices/store-prediction/prediction-keeper.js';
import { StoredPredictionsController } from './slices/stored-predictions/stored-predictions.controller.js';
import { UsageRecorder } from './slices/usage-reports/usage-recorder.js';
import { UsageReportsController } from './slices/usage-reports/usage-reports.controller.js';
import { modelCheckThreads } from './slices/import-model/model-check-thread.js';

/**
 * Deployments (an iteration behind an endpoint and a hashed API key), prediction with cached models, and
 * model import. Needs the BlobStore and the iterations read model (TrainingModule).
 */
@Module({
  imports: [CqrsModule],
  controllers: [
    DeploymentsController,
    PredictVideoController,
    PredictController,
    ImportModelController,
    ConfigurePredictionStoreController,
    // The static promote path before the :predictionId routes.
    PromotePredictionsController,
    StoredPredictionsController,
    ShareDeploymentController,
    SharedModelsController,
    UsageReportsController,
    ProposeRegionsController,
    QuickTestController,
  ],
  providers: [
    ProjectAccess,
    IterationQueuer,
    uploadLimitsProvider,
    deploymentSettingsProvider,
    DeploymentQueries,
    DeploymentsProjection,
    ModelCache,
    ModelEvictionReactor,
    ModelWarmingReactor,
    ModelCacheFollower,
    PredictionService,
    UrlFetcher,
    DeploymentKeyGuard,
    PredictionRateCounts,
    PredictThrottlerGuard,
    DeployModelHandler,
    RotateDeploymentKeyHandler,
    UndeployModelHandler,
    ImportModelHandler,
    RegionProposals,
    BackboneRegionProposals,
    DatasetQueries,
    IterationQueries,
    ImageIntake,
    ImageQuota,
    DeploymentCommandRunner,
    StoredPredictionsProjection,
    StoredPredictionQueries,
    PredictionKeeper,
    PredictionPromoter,
    PredictionImageReclaimer,
    UsageProjection,
    UsageQueries,
    UsageRecorder,
    SharedModelsProjection,
    SharedModelGuard,
    SharedPredictThrottlerGuard,
    PredictVideoHandler,
    VideoPredictionsProjection,
    VideoPredictionJobReactor,
    VideoPredictionJobProcessor,
    LostVideoPredictionJobsRecoverer,
  ],
  exports: [
    PredictionRateCounts,
    PredictThrottlerGuard,
    DeploymentQueries,
    ModelCache,
    RegionProposals,
    PredictionKeeper,
    PredictionPromoter,
    UsageRecorder,
    DeploymentCommandRunner,
    StoredPredictionQueries,
  ],
})
export class DeploymentsModule implements OnApplicationShutdown {
  /** The warm model-check thread does not keep the process alive, but holds tfjs until closed. */
  onApplicationShutdown(): Promise<void> {
    return modelCheckThreads.closeIdle();
  }
}

/** The worker process predicts videos through deployments. */
@Module({ providers: [VideoPredictionJobProcessor] })
export class DeploymentsWorkerModule {}
