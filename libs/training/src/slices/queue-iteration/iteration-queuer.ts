import { Injectable } from '@nestjs/common';
import { BlobStore } from '@diyml/blobs';
import { Clock, DomainError, IdGenerator, isDomainError, type RequestContext, Settings } from '@diyml/core';
import { type CommandContext, CommandPipeline, WRONG_EXPECTED_REVISION } from '@diyml/event-store';
import { ReadStore } from '@diyml/read-store';
import { iterationNumberDecider, reservedNumber } from '../../domain/iteration-number.decider.js';
import { iterationDecider } from '../../domain/iteration.decider.js';
import {
  type ImportedModelSpec,
  type IterationSpec,
  iterationNumbersStream,
  iterationStream,
} from '../../domain/iteration.events.js';
import { type DatasetManifest, serializeManifest } from '../../manifest/dataset-manifest.js';
import { ITERATIONS, type IterationView } from '../../read-models/iterations/iteration.view.js';

const NUMBERING_ATTEMPTS = 10;

/** Numbers and queues iterations; shared by queueing and reproducing. */
@Injectable()
export class IterationQueuer {
  constructor(
    private readonly pipeline: CommandPipeline,
    private readonly blobs: BlobStore,
    private readonly readStore: ReadStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly settings: Settings,
  ) {}

  async storeManifest(manifest: DatasetManifest): Promise<string> {
    return (await this.blobs.put(serializeManifest(manifest))).sha256;
  }

  async queue(projectId: string, context: RequestContext, spec: IterationSpec): Promise<IterationView> {
    const iterationId = this.ids.newId();
    const queueing = { ...context, now: this.clock.now() };
    const number = await this.reserveNumber(projectId, iterationId, queueing);
    await this.pipeline.on(iterationStream(iterationId), iterationDecider).run({
      context: queueing,
      command: (_, metadata) => ({ type: 'QueueIteration', projectId, iterationId, number, spec, metadata }),
    });
    return (await this.readStore.collection<IterationView>(ITERATIONS).get(iterationId))!;
  }

  /**
   * One user's queued and running trainings are bounded (MAX_ACTIVE_TRAININGS_PER_USER), so no account can fill the
   * training queue others wait in. Checked first by whoever queues, before any work for the run (a manifest stored);
   * two requests at the same moment may both pass.
   */
  async assertTrainingSlotFree({ userId }: RequestContext): Promise<void> {
    if (userId === null) return;
    const limit = this.settings.MAX_ACTIVE_TRAININGS_PER_USER;
    const iterations = this.readStore.collection<IterationView>(ITERATIONS);
    const active =
      (await iterations.count({ queuedBy: userId, status: 'queued' })) +
      (await iterations.count({ queuedBy: userId, status: 'running' }));
    if (active < limit) return;
    throw new DomainError(
      'rate-limited',
      'TOO_MANY_ACTIVE_TRAININGS',
      `You have ${active} trainings queued or running, the most one user may: wait for one to finish or cancel one ` +
        '(POST …/iterations/{iterationId}/cancel) first.',
      { active, maxActive: limit },
    );
  }

  /**
   * Records an uploaded model (already validated and stored as a blob) as a new completed iteration, numbered
   * like trained ones. Its dataset manifest is empty: the model was trained elsewhere.
   */
  async importModel(
    projectId: string,
    context: RequestContext,
    model: Omit<ImportedModelSpec, 'manifestSha256'>,
  ): Promise<IterationView> {
    const manifestSha256 = await this.storeManifest({
      v: 1,
      projectId,
      task: model.task,
      labels: model.labels,
      images: [],
    });
    const iterationId = this.ids.newId();
    const importing = { ...context, now: this.clock.now() };
    const number = await this.reserveNumber(projectId, iterationId, importing);
    await this.pipeline.on(iterationStream(iterationId), iterationDecider).run({
      context: importing,
      command: (_, metadata) => ({
        type: 'ImportModel',
        projectId,
        iterationId,
        number,
        model: { ...model, manifestSha256 },
        metadata,
      }),
    });
    return (await this.readStore.collection<IterationView>(ITERATIONS).get(iterationId))!;
  }

  /** Each number is reserved on the project's numbering stream; a concurrent reservation is decided again. */
  private async reserveNumber(projectId: string, iterationId: string, context: CommandContext): Promise<number> {
    try {
      const { before, events } = await this.pipeline.on(iterationNumbersStream(projectId), iterationNumberDecider).run({
        context,
        command: { type: 'ReserveIterationNumber', projectId, iterationId },
        retry: { attempts: NUMBERING_ATTEMPTS },
        waitForReadModels: false,
      });
      return reservedNumber(before, events, iterationId);
    } catch (error) {
      if (!isDomainError(error, WRONG_EXPECTED_REVISION)) throw error;
      throw DomainError.conflict('ITERATION_NUMBER_CONTENDED', 'Too many iterations were queued at once: retry.');
    }
  }
}
