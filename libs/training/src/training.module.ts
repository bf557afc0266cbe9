import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DatasetQueries } from '@diyml/datasets';
import { BackboneCatalog, ProjectAccess } from '@diyml/projects';
import { ProjectEmbeddings } from './embeddings/project-embeddings.js';
import { EmbeddingJobProcessor } from './jobs/embedding-job.processor.js';
import { EmbeddingJobReactor } from './jobs/embedding-job.reactor.js';
import { TrainingJobProcessor } from './jobs/training-job.processor.js';
import { TrainingJobReactor } from './jobs/training-job.reactor.js';
import { EmbeddingTablesProjection } from './read-models/embedding-tables/embedding-tables.projection.js';
import { IterationQueries } from './read-models/iterations/iteration-queries.js';
import { IterationsProjection } from './read-models/iterations/iterations.projection.js';
import { LostTrainingJobsRecoverer } from './slices/recover-lost-jobs/lost-training-jobs.recoverer.js';
import { CancelIterationHandler } from './slices/cancel-iteration/cancel-iteration.handler.js';
import { ImagePerformanceQueries } from './slices/image-performances/image-performance-queries.js';
import { ImagePerformancesController } from './slices/image-performances/image-performances.controller.js';
import { DeleteIterationController } from './slices/delete-iteration/delete-iteration.controller.js';
import { DeleteIterationHandler } from './slices/delete-iteration/delete-iteration.handler.js';
import { EmbeddingCacheController } from './slices/read-embedding-cache/embedding-cache.controller.js';
import { ArchitectureChoiceController } from './slices/choose-architecture/architecture-choice.controller.js';
import { IterationArtifactsController } from './slices/iteration-artifacts/iteration-artifacts.controller.js';
import { QueueIterationController } from './slices/queue-iteration/queue-iteration.controller.js';
import { IterationQueuer } from './slices/queue-iteration/iteration-queuer.js';
import { QueueIterationHandler, ReproduceIterationHandler } from './slices/queue-iteration/queue-iteration.handler.js';
import { IterationsController } from './slices/read-iterations/iterations.controller.js';
import { UpdateIterationController } from './slices/update-iteration/update-iteration.controller.js';
import { RenameIterationHandler } from './slices/update-iteration/update-iteration.handler.js';
import { trainingThreads } from './worker/training-thread.js';

/** Iterations in the api: queue, follow, cancel, read metrics and artifacts; and the training jobs. */
@Module({
  imports: [CqrsModule],
  controllers: [
    QueueIterationController,
    IterationsController,
    IterationArtifactsController,
    ImagePerformancesController,
    UpdateIterationController,
    DeleteIterationController,
    EmbeddingCacheController,
    ArchitectureChoiceController,
  ],
  providers: [
    ProjectAccess,
    DatasetQueries,
    IterationQueries,
    IterationsProjection,
    EmbeddingTablesProjection,
    TrainingJobReactor,
    TrainingJobProcessor,
    LostTrainingJobsRecoverer,
    EmbeddingJobReactor,
    EmbeddingJobProcessor,
    ProjectEmbeddings,
    QueueIterationHandler,
    ReproduceIterationHandler,
    CancelIterationHandler,
    RenameIterationHandler,
    DeleteIterationHandler,
    IterationQueuer,
    BackboneCatalog,
    ImagePerformanceQueries,
  ],
  exports: [IterationQueries, IterationQueuer, ImagePerformanceQueries],
})
export class TrainingModule implements OnApplicationShutdown {
  /** The warm training thread would outlive the app otherwise (it does not keep the process alive, but holds tfjs). */
  onApplicationShutdown(): Promise<void> {
    return trainingThreads.closeIdle();
  }
}

/** The worker process only runs training and background embedding jobs. */
@Module({ providers: [TrainingJobProcessor, EmbeddingJobProcessor, ProjectEmbeddings, BackboneCatalog] })
export class TrainingWorkerModule implements OnApplicationShutdown {
  onApplicationShutdown(): Promise<void> {
    return trainingThreads.closeIdle();
  }
}
