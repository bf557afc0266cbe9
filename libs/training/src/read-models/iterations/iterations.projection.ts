import { Injectable } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore, updateStreamDocument } from '@diyml/read-store/pure';
import { defaultIterationName, ITERATION_EVENT_TYPES, type IterationEvent } from '../../domain/iteration.events.js';
import { ITERATIONS, type IterationView } from './iteration.view.js';

function elapsed(from: string | null, to: string): number | null {
  return from ? Date.parse(to) - Date.parse(from) : null;
}

/** Iterations with their progress, loss curves and outcome. */
@ReadModelProjection()
@Injectable()
export class IterationsProjection implements Projection<IterationEvent> {
  readonly name = 'iterations';
  /**
   * 2: `imported` (ModelImported). 3: `name` (IterationRenamed), deleted iterations removed (IterationDeleted).
   * 4: `importFormat`; an imported model's seed and image count are null rather than 0. 5: `queuedBy`.
   */
  readonly version = 5;
  readonly collections = [ITERATIONS];
  readonly eventTypes = ITERATION_EVENT_TYPES;

  async apply(event: Recorded<IterationEvent>, store: ReadStore): Promise<void> {
    const iterations = store.collection<IterationView>(ITERATIONS);
    const revision = event.revision;
    const update = (change: (view: IterationView) => Partial<IterationView>) =>
      updateStreamDocument(iterations, event.data.iterationId, event, change);
    switch (event.type) {
      case 'IterationQueued': {
        const data = event.data;
        await iterations.apply(data.iterationId, event.position, () => ({
          id: data.iterationId,
          projectId: data.projectId,
          queuedBy: event.metadata.userId,
          number: data.number,
          name: defaultIterationName(data.number),
          status: 'queued',
          task: data.task,
          labels: data.labels,
          progress: { epoch: 0, epochs: data.trainingConfig.epochs },
          trainingConfig: data.trainingConfig,
          architecture: data.architecture,
          seed: data.seed,
          manifestSha256: data.manifestSha256,
          imageCount: data.imageCount,
          reproducedFrom: data.reproducedFrom,
          baseModelSha256: data.baseModelSha256 ?? null,
          ...(data.detectionSplitByLabel ? { detectionSplitByLabel: true } : {}),
          ...(data.multilabelSplitByLabel ? { multilabelSplitByLabel: true } : {}),
          imported: false,
          importFormat: null,
          reproduction: null,
          attempt: 0,
          backend: null,
          history: [],
          metrics: null,
          model: null,
          evaluationSha256: null,
          embeddings: null,
          bestEpoch: null,
          stoppedEarly: false,
          trainCount: null,
          validationCount: null,
          error: null,
          queuedAt: data.queuedAt,
          startedAt: null,
          completedAt: null,
          durationMs: null,
          revision,
        }));
        return;
      }
      case 'IterationStarted':
        await update((view) => ({
          status: 'running',
          attempt: event.data.attempt,
          backend: event.data.backend,
          startedAt: event.data.startedAt,
          history: [],
          progress: { epoch: 0, epochs: view.progress.epochs },
        }));
        return;
      case 'EpochCompleted': {
        const { epoch, epochs, loss, accuracy, valLoss, valAccuracy, durationMs, imagesPerSecond } = event.data;
        await update((view) => ({
          progress: { epoch, epochs },
          history: [...view.history, { epoch, loss, accuracy, valLoss, valAccuracy, durationMs, imagesPerSecond }],
        }));
        return;
      }
      case 'IterationCompleted': {
        const data = event.data;
        const current = await iterations.get(data.iterationId);
        const original = current?.reproducedFrom ? await iterations.get(current.reproducedFrom) : undefined;
        const reproduction = original
          ? {
              sameMetrics: isDeepStrictEqual(original.metrics, data.metrics),
              sameModel: original.model?.sha256 === data.modelSha256,
            }
          : null;
        await update((view) => ({
          reproduction,
          status: 'completed',
          metrics: data.metrics,
          model: { sha256: data.modelSha256, bytes: data.modelBytes },
          evaluationSha256: data.evaluationSha256,
          embeddings: data.embeddingsSha256
            ? {
                sha256: data.embeddingsSha256,
                computed: data.embeddingsComputed ?? 0,
                reused: data.embeddingsReused ?? 0,
              }
            : null,
          backend: data.backend,
          bestEpoch: data.bestEpoch,
          stoppedEarly: data.stoppedEarly,
          trainCount: data.trainCount,
          validationCount: data.validationCount,
          completedAt: data.completedAt,
          durationMs: elapsed(view.startedAt, data.completedAt),
        }));
        return;
      }
      case 'IterationFailed':
        await update((view) => ({
          status: 'failed',
          error: { code: event.data.code, reason: event.data.reason },
          completedAt: event.data.failedAt,
          durationMs: elapsed(view.startedAt, event.data.failedAt),
        }));
        return;
      case 'ModelImported': {
        const data = event.data;
        await iterations.apply(data.iterationId, event.position, () => ({
          id: data.iterationId,
          projectId: data.projectId,
          queuedBy: null,
          number: data.number,
          name: defaultIterationName(data.number),
          status: 'completed',
          task: data.task,
          labels: data.labels,
          progress: { epoch: 0, epochs: 0 },
          trainingConfig: null,
          architecture: data.architecture,
          seed: null,
          manifestSha256: data.manifestSha256,
          imageCount: null,
          reproducedFrom: null,
          baseModelSha256: null,
          imported: true,
          importFormat: data.format,
          reproduction: null,
          attempt: 0,
          backend: null,
          history: [],
          metrics: null,
          model: { sha256: data.modelSha256, bytes: data.modelBytes },
          evaluationSha256: null,
          embeddings: null,
          bestEpoch: null,
          stoppedEarly: false,
          trainCount: null,
          validationCount: null,
          error: null,
          queuedAt: data.importedAt,
          startedAt: null,
          completedAt: data.importedAt,
          durationMs: null,
          revision,
        }));
        return;
      }
      case 'IterationRenamed':
        await update(() => ({ name: event.data.name }));
        return;
      case 'IterationDeleted':
        await iterations.apply(event.data.iterationId, event.position, () => null);
        return;
      case 'IterationHandedBack':
        // Still running: the next attempt's IterationStarted shows where it is.
        return;
      case 'IterationCancelled':
        await update((view) => ({
          status: 'cancelled',
          completedAt: event.data.cancelledAt,
          durationMs: elapsed(view.startedAt, event.data.cancelledAt),
        }));
        return;
    }
  }
}
