import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DatasetQueries, uploadLimitsProvider } from '@diyml/datasets';
import { BackboneCatalog, ProjectAccess } from '@diyml/projects';
import { IterationFeatureMaps, ProjectEmbeddings } from '@diyml/training';
import { ImageThumbnails } from '@diyml/datasets';
import { ImageWriter } from '@diyml/datasets';
import { IterationPredictor } from './jobs/iteration-predictor.js';
import { LabelSuggestionsJobProcessor } from './jobs/label-suggestions-job.processor.js';
import { LabelSuggestionsJobReactor } from './jobs/label-suggestions-job.reactor.js';
import { LostLabelSuggestionsJobsRecoverer } from './jobs/label-suggestions-job.recoverer.js';
import { TestRunJobProcessor } from './jobs/test-run-job.processor.js';
import { TestRunJobReactor } from './jobs/test-run-job.reactor.js';
import { LostTestRunJobsRecoverer } from './jobs/test-run-job.recoverer.js';
import { LabelSuggestionQueries } from './read-models/label-suggestions/label-suggestion-queries.js';
import { LabelSuggestionsProjection } from './read-models/label-suggestions/label-suggestions.projection.js';
import { TestRunQueries } from './read-models/test-runs/test-run-queries.js';
import { TestRunsProjection } from './read-models/test-runs/test-runs.projection.js';
import { AcceptSuggestionsHandler } from './slices/accept-suggestions/accept-suggestions.handler.js';
import { CancelTestRunHandler } from './slices/cancel-test-run/cancel-test-run.handler.js';
import { LabelSuggestionsController } from './slices/label-suggestions.controller.js';
import { RejectSuggestionsHandler } from './slices/reject-suggestions/reject-suggestions.handler.js';
import { SuggestLabelsHandler } from './slices/suggest-labels/suggest-labels.handler.js';
import { RequestTestRunHandler } from './slices/request-test-run/request-test-run.handler.js';
import { TestRunsController } from './slices/test-runs.controller.js';
import { predictionThreads } from './worker/test-run-thread.js';

/**
 * Running an iteration's model on images in the background: test runs on new labeled data (request, follow, cancel,
 * read metrics and per-image predictions) and label suggestions for unlabeled images (suggest, list, accept, reject).
 */
@Module({
  imports: [CqrsModule],
  controllers: [TestRunsController, LabelSuggestionsController],
  providers: [
    ProjectAccess,
    DatasetQueries,
    uploadLimitsProvider,
    TestRunQueries,
    TestRunsProjection,
    TestRunJobReactor,
    TestRunJobProcessor,
    LostTestRunJobsRecoverer,
    RequestTestRunHandler,
    CancelTestRunHandler,
    ImageWriter,
    ImageThumbnails,
    LabelSuggestionQueries,
    LabelSuggestionsProjection,
    LabelSuggestionsJobReactor,
    LabelSuggestionsJobProcessor,
    LostLabelSuggestionsJobsRecoverer,
    SuggestLabelsHandler,
    AcceptSuggestionsHandler,
    RejectSuggestionsHandler,
    IterationPredictor,
    IterationFeatureMaps,
    ProjectEmbeddings,
    BackboneCatalog,
  ],
  exports: [TestRunQueries, LabelSuggestionQueries],
})
export class EvaluationModule implements OnApplicationShutdown {
  /** The warm prediction thread does not keep the process alive, but holds tfjs until closed. */
  onApplicationShutdown(): Promise<void> {
    return predictionThreads.closeIdle();
  }
}

/** The worker process runs test-run and label-suggestion jobs. */
@Module({
  providers: [
    TestRunJobProcessor,
    LabelSuggestionsJobProcessor,
    IterationPredictor,
    IterationFeatureMaps,
    ProjectEmbeddings,
    BackboneCatalog,
  ],
})
export class EvaluationWorkerModule implements OnApplicationShutdown {
  onApplicationShutdown(): Promise<void> {
    return predictionThreads.closeIdle();
  }
}
