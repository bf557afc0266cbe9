import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { join } from 'node:path';
import { BlobStore } from '@diyml/blobs';
import {
  Clock,
  type CommandMetadata,
  commandMetadata,
  DomainError,
  IdGenerator,
  READ_ONLY_PROCESS,
  Settings,
} from '@diyml/core';
import { CommandPipeline, EventStore } from '@diyml/event-store';
import { ProjectionRunner, ReadStore } from '@diyml/read-store';
import { type StoredPredictionCommand, storedPredictionDecider } from '../../domain/stored-prediction.decider.js';
import { type StoredPredictionResult, storedPredictionStream } from '../../domain/stored-prediction.events.js';
import { beyondRetention } from '../../domain/retention.js';
import { DeploymentErrors } from '../../domain/deployment-errors.js';
import { DEPLOYMENTS, type DeploymentView } from '../../read-models/deployments/deployment.view.js';
import { StoredPredictionQueries } from '../../read-models/stored-predictions/stored-prediction-queries.js';
import { type JournalEntry, type JournalRecord, PredictionJournal } from '../../journal/prediction-journal.js';

/** How often the age limits of every deployment are applied (the count limit is applied after each store). */
const AGE_SWEEP_INTERVAL_MS = 10 * 60_000;
const SWEEP_CATCH_UP_MS = 10_000;

/** Predictions answered but not written yet, at most; past it a prediction waits for room (back-pressure). */
const MAX_PENDING = 1000;
const RETRY_DELAY_MS = 500;

type StorePrediction = Extract<StoredPredictionCommand, { type: 'StorePrediction' }>;

interface PendingStore {
  command: StorePrediction;
  image: Buffer;
  maxCount: number | null;
  /** Its record in the write-ahead journal, released once written. */
  journaled: JournalEntry;
}

function toJournalRecord({ command, image, maxCount }: Omit<PendingStore, 'journaled'>): JournalRecord {
  return {
    header: {
      command: { ...command, metadata: { ...command.metadata, now: command.metadata.now.toISOString() } },
      maxCount,
    },
    image,
  };
}

function fromJournalRecord({ header, image }: JournalRecord): Omit<PendingStore, 'journaled'> {
  const command = header.command as StorePrediction & { metadata: Omit<CommandMetadata, 'now'> & { now: string } };
  return {
    command: { ...command, metadata: { ...command.metadata, now: new Date(command.metadata.now) } },
    image,
    maxCount: header.maxCount as number | null,
  };
}

/**
 * Keeps the predictions of deployments whose prediction store is on: the image as a blob, the results in a
 * PredictionStored event. Before the answer, a prediction is only appended to a local write-ahead journal
 * (DATA_DIR/journal, one fdatasync shared by every prediction arriving meanwhile: about 6 ms here); the blob
 * and the event are written behind the answer: each waits for the disk (fsync, about 15 ms each here), which
 * would triple a 10 ms prediction. The answer carries the id the stored prediction will have; a write that
 * fails is retried; a graceful shutdown first writes everything answered; a crash (kill -9, power cut) loses
 * nothing answered: the next start on this host writes what the journal of the dead process holds (the writes
 * are idempotent). The store's own read endpoints wait for the writes of this process (read-your-writes). The
 * retention limits are applied after the writes, off the request.
 */
@Injectable()
export class PredictionKeeper implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(PredictionKeeper.name);
  private timer?: NodeJS.Timeout;
  /** Deployments whose retention sweep is queued or running (one at a time per deployment). */
  private readonly sweeps = new Map<string, Promise<void>>();
  private readonly queued = new Set<string>();
  private readonly pending: PendingStore[] = [];
  private writing: Promise<void> | null = null;
  private roomWaiters: (() => void)[] = [];
  /** Log position of the last stored prediction written by this process. */
  private lastPosition = -1;
  /** Predictions queued and written (or found written) by this process, for read-your-writes. */
  private queuedCount = 0;
  private writtenCount = 0;
  private writtenWaiters: { target: number; resolve: () => void }[] = [];
  private readonly journal: PredictionJournal;

  constructor(
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly blobs: BlobStore,
    private readonly readStore: ReadStore,
    private readonly projections: ProjectionRunner,
    private readonly stored: StoredPredictionQueries,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    settings: Settings,
    @Optional() @Inject(READ_ONLY_PROCESS) private readonly readOnly = false,
  ) {
    this.journal = new PredictionJournal(join(settings.DATA_DIR, 'journal'));
  }

  /** Writes what processes that are gone acknowledged and left in their journals. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.readOnly) return;
    this.timer = setInterval(
      () =>
        void this.sweepAges().catch((error: unknown) =>
          this.logger.warn(`Age sweep of stored predictions failed, tried again later: ${String(error)}`),
        ),
      AGE_SWEEP_INTERVAL_MS,
    );
    this.timer.unref();
    const orphans = await this.journal.takeOver();
    if (orphans.length > 0) this.logger.log(`Writing ${orphans.length} stored predictions answered before a crash`);
    for (const { record, entry } of orphans) this.enqueue({ ...fromJournalRecord(record), journaled: entry });
  }

  /** Writes every answered prediction before the event store closes. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    while (this.writing) await this.writing;
    await this.journal.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.sweeps.values());
  }

  /** Whether predictions of this deployment are kept. */
  keeps(deployment: DeploymentView): boolean {
    return deployment.predictionStore?.enabled === true;
  }

  /** Queues the image and the results to be stored; returns the id the stored prediction gets. */
  async keep(
    deployment: DeploymentView,
    image: Buffer,
    predictions: StoredPredictionResult[],
    caller: { userId: string | null; correlationId: string },
  ): Promise<string> {
    while (this.pending.length >= MAX_PENDING) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    const predictionId = this.ids.newId();
    const store: Omit<PendingStore, 'journaled'> = {
      command: {
        type: 'StorePrediction',
        projectId: deployment.projectId,
        deploymentId: deployment.id,
        predictionId,
        iterationId: deployment.iterationId,
        imageSha256: '',
        imageBytes: image.length,
        predictions,
        callerId: caller.userId,
        metadata: commandMetadata(caller, this.clock.now()),
      },
      image,
      maxCount: deployment.predictionStore?.maxCount ?? null,
    };
    // Durable before the answer: a crash from here on loses nothing the caller was told is stored.
    let journaled: JournalEntry;
    try {
      journaled = await this.journal.append(toJournalRecord(store));
    } catch (error) {
      this.logger.error(`The prediction journal is not writable: ${(error as Error).message}`);
      throw new DomainError(
        'unavailable',
        DeploymentErrors.PREDICTION_NOT_STORED,
        'The prediction could not be stored (the server cannot write its journal under DATA_DIR/journal): retry later, or turn the prediction store off.',
      );
    }
    this.enqueue({ ...store, journaled });
    return predictionId;
  }

  private enqueue(store: PendingStore): void {
    this.queuedCount += 1;
    this.pending.push(store);
    this.writing ??= this.writeAll().finally(() => (this.writing = null));
  }

  /** Resolves once every prediction queued so far is in the log and the read models (read-your-writes). */
  async written(timeoutMs = SWEEP_CATCH_UP_MS): Promise<void> {
    const target = this.queuedCount;
    if (this.writtenCount < target) {
      // Only what was queued before this call: under steady traffic the queue itself may never be empty.
      let timer: NodeJS.Timeout | undefined;
      const caughtUp = await Promise.race([
        new Promise<boolean>((resolve) => this.writtenWaiters.push({ target, resolve: () => resolve(true) })),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (!caughtUp) {
        // A write being retried (a store that is down) must not hang the reads.
        throw new DomainError(
          'unavailable',
          'READ_MODEL_LAGGING',
          'Predictions answered a moment ago are still being stored: retry shortly.',
        );
      }
    }
    await this.projections.waitFor(this.lastPosition, timeoutMs);
  }

  private async writeAll(): Promise<void> {
    for (let next = this.pending[0]; next; next = this.pending[0]) {
      try {
        await this.write(next);
      } catch (error) {
        if ((error as { code?: string }).code === 'PREDICTION_ALREADY_STORED') {
          // Written by an earlier attempt whose answer was lost: done.
        } else {
          this.logger.warn(
            `Stored prediction ${next.command.predictionId} not written yet, retrying: ${(error as Error).message}`,
          );
          await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
          continue;
        }
      }
      this.pending.shift();
      next.journaled.release();
      this.roomWaiters.shift()?.();
      this.writtenCount += 1;
      this.writtenWaiters = this.writtenWaiters.filter((waiter) =>
        waiter.target <= this.writtenCount ? (waiter.resolve(), false) : true,
      );
      if (next.maxCount !== null) this.scheduleSweep(next.command.deploymentId);
    }
  }

  private async write({ command, image }: PendingStore): Promise<void> {
    const blob = await this.blobs.put(image);
    const result = await this.pipeline.on(storedPredictionStream(command.predictionId), storedPredictionDecider).run({
      context: command.metadata,
      command: { ...command, imageSha256: blob.sha256, imageBytes: blob.bytes },
      waitForReadModels: false,
    });
    this.lastPosition = Math.max(this.lastPosition, result.position);
    // A deleted prediction of the same picture may have had its bytes reclaimed between the put and the append.
    if (!(await this.blobs.has(blob.sha256))) await this.blobs.put(image);
  }

  /** Deletes a stored prediction at its owner's request; returns the log position for read-your-writes. */
  async delete(predictionId: string, context: { userId: string; correlationId: string }): Promise<number> {
    const result = await this.pipeline.on(storedPredictionStream(predictionId), storedPredictionDecider).run({
      context,
      command: (_, metadata) => ({ type: 'DeleteStoredPrediction', reason: 'deleted', metadata }),
      waitForReadModels: false,
    });
    return result.position;
  }

  /** Applies the deployment's retention limits soon (after the projection caught up with recent stores). */
  scheduleSweep(deploymentId: string): void {
    if (this.queued.has(deploymentId)) return;
    this.queued.add(deploymentId);
    const previous = this.sweeps.get(deploymentId) ?? Promise.resolve();
    const next = previous
      // See every prediction stored so far, this one included.
      .then(async () => this.projections.waitFor(await this.events.headPosition(), SWEEP_CATCH_UP_MS))
      .then(async () => {
        this.queued.delete(deploymentId);
        await this.sweep(deploymentId);
      })
      .catch((error: unknown) =>
        this.logger.warn(`Retention sweep of deployment ${deploymentId} failed: ${(error as Error).message}`),
      )
      .finally(() => {
        if (this.sweeps.get(deploymentId) === next) this.sweeps.delete(deploymentId);
      });
    this.sweeps.set(deploymentId, next);
  }

  /** Deletes the stored predictions beyond the deployment's count limit or older than its age limit. */
  async sweep(deploymentId: string): Promise<number> {
    const deployment = await this.readStore.collection<DeploymentView>(DEPLOYMENTS).get(deploymentId);
    const limits = deployment?.predictionStore;
    if (!limits || (limits.maxCount === null && limits.maxAgeDays === null)) return 0;
    const now = this.clock.now();
    const expired = beyondRetention(await this.stored.ofDeployment(deploymentId), limits, now);
    const context = { userId: null, correlationId: this.ids.newId(), now };
    for (const view of expired) {
      await this.pipeline
        .on(storedPredictionStream(view.id), storedPredictionDecider)
        .run({
          context,
          command: (_, metadata) => ({ type: 'DeleteStoredPrediction', reason: 'retention', metadata }),
          waitForReadModels: false,
        })
        .catch((error: unknown) =>
          this.logger.warn(`Stored prediction ${view.id} not deleted: ${(error as Error).message}`),
        );
    }
    return expired.length;
  }

  /**
   * Applies the age limit of every deployment that has one, undeployed ones included (their stored predictions stay,
   * to be promoted, within the same limits); run every AGE_SWEEP_INTERVAL_MS.
   */
  async sweepAges(): Promise<void> {
    const deployments = await this.readStore.collection<DeploymentView>(DEPLOYMENTS).findAll({});
    const aged = deployments.filter((deployment) => deployment.predictionStore?.maxAgeDays);
    for (const deployment of aged) this.scheduleSweep(deployment.id);
    await Promise.all(aged.map((deployment) => this.sweeps.get(deployment.id)));
  }
}
