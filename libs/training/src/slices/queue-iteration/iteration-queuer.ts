import { Injectable } from '@nestjs/common';
import { BlobStore } from '@diyml/blobs';
import {
  Clock,
  commandMetadata,
  type CommandMetadata,
  DomainError,
  IdGenerator,
  isDomainError,
  type RequestContext,
  Settings,
  toEventMetadata,
} from '@diyml/core';
import { decideAndAppend, EventStore, WRONG_EXPECTED_REVISION } from '@diyml/event-store';
import { ProjectionRunner, ReadStore } from '@diyml/read-store';
import { iterationDecider } from '../../domain/iteration.decider.js';
import {
  type ImportedModelSpec,
  type IterationSpec,
  iterationNumbersStream,
  iterationStream,
} from '../../domain/iteration.events.js';
import { type DatasetManifest, serializeManifest } from '../../manifest/dataset-manifest.js';
import { ITERATIONS, type IterationView } from '../../read-models/iterations/iteration.view.js';

const NUMBERING_RETRIES = 10;

/** Numbers and queues iterations; shared by queueing and reproducing. */
@Injectable()
export class IterationQueuer {
  constructor(
    private readonly events: EventStore,
    private readonly blobs: BlobStore,
    private readonly projections: ProjectionRunner,
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
    const metadata = commandMetadata(context, this.clock.now());
    const number = await this.reserveNumber(projectId, iterationId, metadata);
    const result = await decideAndAppend(
      this.events,
      iterationStream(iterationId),
      iterationDecider,
      { type: 'QueueIteration', projectId, iterationId, number, spec, metadata },
      metadata,
    );
    await this.projections.waitFor(result.position, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
    return (await this.readStore.collection<IterationView>(ITERATIONS).get(iterationId))!;
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
    const metadata = commandMetadata(context, this.clock.now());
    const number = await this.reserveNumber(projectId, iterationId, metadata);
    const result = await decideAndAppend(
      this.events,
      iterationStream(iterationId),
      iterationDecider,
      { type: 'ImportModel', projectId, iterationId, number, model: { ...model, manifestSha256 }, metadata },
      metadata,
    );
    await this.projections.waitFor(result.position, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
    return (await this.readStore.collection<IterationView>(ITERATIONS).get(iterationId))!;
  }

  /** Iterations of a project are numbered 1, 2, 3…: each number is claimed with the revision it follows. */
  private async reserveNumber(projectId: string, iterationId: string, metadata: CommandMetadata): Promise<number> {
    const stream = iterationNumbersStream(projectId);
    for (let attempt = 0; attempt < NUMBERING_RETRIES; attempt += 1) {
      const reserved = await this.events.readStream(stream);
      const number = reserved.length + 1;
      try {
        await this.events.append(
          stream,
          [{ type: 'IterationNumberReserved', v: 1, data: { projectId, iterationId, number } }],
          {
            expectedRevision: reserved.length === 0 ? 'no_stream' : reserved.length - 1,
            metadata: toEventMetadata(metadata),
          },
        );
        return number;
      } catch (error) {
        if (!isDomainError(error, WRONG_EXPECTED_REVISION)) throw error;
      }
    }
    throw DomainError.conflict('ITERATION_NUMBER_CONTENDED', 'Too many iterations were queued at once: retry.');
  }
}
