import { Injectable } from '@nestjs/common';
import { DatasetQueries, type ImageUploaded } from '@diyml/datasets';
import type { Recorded } from '@diyml/event-store';
import { JobQueue, onBehalfOf } from '@diyml/jobs';
import { chooseArchitecture, getArchitecture, PHOTO_MIN_SIDE } from '@diyml/ml';
import {
  AUTO_ARCHITECTURE,
  canonicalTrainingConfig,
  PROJECTS,
  type ProjectView,
  type TrainingConfigured,
} from '@diyml/projects';
import { EventReactor, type Reactor, ReadStore } from '@diyml/read-store';
import { EMBEDDING_QUEUE, type EmbeddingJobPayload } from './embedding-job.processor.js';

/**
 * Queues background embeddings when a backbone iteration of the project would need them: after an upload of a
 * photo to a classification or multilabel project that trains on a backbone ('backbone-classifier', or 'auto' for photos), and
 * for every image when the training configuration changes. At most one job per project waits: a new event
 * replaces the waiting job by one that carries its images too, so a bulk upload makes a few jobs, not one per photo.
 */
@EventReactor()
@Injectable()
export class EmbeddingJobReactor implements Reactor<ImageUploaded | TrainingConfigured> {
  readonly name = 'embedding-job-reactor';
  readonly eventTypes = ['ImageUploaded', 'TrainingConfigured'] as const;
  /** The job of each project that may still be waiting, by project id. */
  private readonly waiting = new Map<string, { id: string; payload: EmbeddingJobPayload }>();

  constructor(
    private readonly jobs: JobQueue,
    private readonly readStore: ReadStore,
    private readonly datasets: DatasetQueries,
  ) {}

  async react(recorded: Recorded<ImageUploaded | TrainingConfigured>): Promise<void> {
    const { projectId } = recorded.data;
    const project = await this.readStore.collection<ProjectView>(PROJECTS).get(projectId);
    // Multilabel heads train on the same embeddings as classification heads; detectors on feature maps.
    if (!project || project.type === 'detection') return;
    const config =
      recorded.type === 'TrainingConfigured'
        ? canonicalTrainingConfig(recorded.data.trainingConfig)
        : project.trainingConfig;
    // A backbone taken from another iteration's model (baseIterationId) is embedded by the training that uses it.
    if (config.baseIterationId !== null) return;
    let images: string[];
    if (recorded.type === 'ImageUploaded') {
      const { sha256, width, height } = recorded.data;
      const onBackbone =
        config.architecture === AUTO_ARCHITECTURE
          ? Math.min(width, height) >= PHOTO_MIN_SIDE
          : getArchitecture(config.architecture).usesBackbone;
      if (!onBackbone) return;
      images = [sha256];
    } else {
      const all = await this.datasets.listAll(projectId);
      const architecture =
        config.architecture === AUTO_ARCHITECTURE ? chooseArchitecture('classification', all).id : config.architecture;
      if (!getArchitecture(architecture).usesBackbone || all.length === 0) return;
      images = all.map((image) => image.sha256);
    }
    const payload: EmbeddingJobPayload = {
      v: 1,
      projectId,
      backbone: config.backbone,
      augmentation: config.augmentation,
      images,
      requestedBy: onBehalfOf(recorded),
    };
    const previous = this.waiting.get(projectId);
    if (
      previous &&
      samePlan(previous.payload, payload) &&
      (await this.jobs.removeWaiting(EMBEDDING_QUEUE, previous.id))
    ) {
      payload.images = [...new Set([...previous.payload.images, ...images])];
    }
    const id = `embeddings-${recorded.streamId}-${recorded.revision}`;
    this.waiting.set(projectId, { id, payload });
    await this.jobs.enqueue({ queue: EMBEDDING_QUEUE, id, payload });
  }
}

function samePlan(a: EmbeddingJobPayload, b: EmbeddingJobPayload): boolean {
  return a.backbone === b.backbone && JSON.stringify(a.augmentation) === JSON.stringify(b.augmentation);
}
