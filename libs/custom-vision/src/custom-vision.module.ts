import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { UrlFetcher } from '@diyml/core';
import { AuditModule } from '@diyml/audit';
import { DatasetQueries, ImageIntake, ImageQuota, uploadLimitsProvider } from '@diyml/datasets';
import { DeploymentsModule, deploymentSettingsProvider } from '@diyml/deployments';
import { LabelSuggestionQueries } from '@diyml/evaluation';
import { PredictionService } from '@diyml/deployments';
import { ProjectAccess } from '@diyml/projects';
import { ImagePerformanceQueries, IterationQueries } from '@diyml/training';
import { TrainingKeyGuard } from './http/training-key.guard.js';
import { CustomVisionReads } from './read/custom-vision-reads.js';
import { DomainsController } from './slices/domains/domains.controller.js';
import { ChangeImagesController } from './slices/images/change-images.controller.js';
import { CreateImagesController } from './slices/images/create-images.controller.js';
import { CreateImagesFromPredictionsController } from './slices/images/create-images-from-predictions.controller.js';
import { ImageBatch } from './slices/images/image-batch.js';
import { ImageMetadataController } from './slices/images/image-metadata.controller.js';
import { ImageQueriesController } from './slices/images/image-queries.controller.js';
import { ImagePerformancesController } from './slices/image-performances/image-performances.controller.js';
import { RegionProposalsController } from './slices/images/region-proposals.controller.js';
import { IterationsController } from './slices/iterations/iterations.controller.js';
import { CustomVisionNotFoundController } from './slices/not-found.controller.js';
import { PredictController } from './slices/predict/predict.controller.js';
import { PredictionKeyGuard } from './slices/predict/prediction-key.guard.js';
import { PredictionsController } from './slices/predictions/predictions.controller.js';
import { ProjectTransferController } from './slices/project-transfer/project-transfer.controller.js';
import { ProjectsController } from './slices/projects/projects.controller.js';
import { PublishController } from './slices/publish/publish.controller.js';
import { QuickTestController } from './slices/quick-test/quick-test.controller.js';
import { SuggestionsController } from './slices/suggestions/suggestions.controller.js';
import { TagsController } from './slices/tags/tags.controller.js';

/**
 * The Azure Custom Vision Training (v3.0 to v3.4-preview) and Prediction (v3.0, v3.1) APIs, translated to the
 * commands and read models of projects, datasets, training and deployments. Nothing outside this module knows
 * about Custom Vision. Needs those contexts' modules in the app (the model cache comes from DeploymentsModule).
 */
@Module({
  imports: [CqrsModule, DeploymentsModule, AuditModule],
  controllers: [
    DomainsController,
    ProjectsController,
    ProjectTransferController,
    TagsController,
    // Static image paths (files, urls, metadata, regions, tags, tagged…) are distinct from one another, and
    // images/:imageId/regionproposals (POST) matches none of them.
    CreateImagesController,
    CreateImagesFromPredictionsController,
    ImageQueriesController,
    ChangeImagesController,
    ImageMetadataController,
    RegionProposalsController,
    IterationsController,
    ImagePerformancesController,
    PublishController,
    PredictionsController,
    QuickTestController,
    PredictController,
    SuggestionsController,
    CustomVisionNotFoundController,
  ],
  providers: [
    ProjectAccess,
    DatasetQueries,
    IterationQueries,
    ImagePerformanceQueries,
    uploadLimitsProvider,
    deploymentSettingsProvider,
    PredictionService,
    CustomVisionReads,
    ImageBatch,
    ImageIntake,
    ImageQuota,
    TrainingKeyGuard,
    PredictionKeyGuard,
    UrlFetcher,
    LabelSuggestionQueries,
  ],
})
export class CustomVisionModule {}
