import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DatasetQueries, uploadLimitsProvider } from '../../datasets/src/index.js';
import { ProjectAccess } from '../../projects/src/index.js';
import { TestRunJobProcessor } from './jobs/test-run-job.processor.js';
import { TestRunJobReactor } from './jobs/test-run-job.reactor.js';
import { TestRunQueries } from './read-models/test-runs/test-run-queries.js';
import { TestRunsProjection } from './read-models/test-runs/test-runs.projection.js';
import { CancelTestRunHandler } from './slices/cancel-test-run/cancel-test-run.handler.js';
import { RequestTestRunHandler } from './slices/request-test-run/request-test-run.handler.js';
import { TestRunsController } from './slices/test-runs.controller.js';

/** Test runs of iterations on new labeled data: request, follow, read metrics and per-image predictions; and their jobs. */
@Module({
  imports: [CqrsModule],
  controllers: [TestRunsController],
  providers: [
    ProjectAccess,
    DatasetQueries,
    uploadLimitsProvider,
    TestRunQueries,
    TestRunsProjection,
    TestRunJobReactor,
    TestRunJobProcessor,
    RequestTestRunHandler,
    CancelTestRunHandler,
  ],
  exports: [TestRunQueries],
})
export class EvaluationModule {}

/** The worker process runs test-run jobs. */
@Module({ providers: [TestRunJobProcessor] })
export class EvaluationWorkerModule {}
