import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, Optional } from '@nestjs/common';
import { BlobStore } from '../../../../blobs/src/index.js';
import { Clock, commandMetadata, IdGenerator, READ_ONLY_PROCESS } from '../../../../core/src/index.js';
import { decideAndAppend, EventStore } from '../../../../event-store/src/index.js';
import { ProjectionRunner, ReadStore } from '../../../../read-store/src/index.js';
import { storedPredictionDecider } from '../../domain/stored-prediction.decider.js';
import { type StoredPredictionResult, storedPredictionStream } from '../../domain/stored-prediction.events.js';
import { DEPLOYMENTS, type DeploymentView } from '../../read-models/deployments/deployment.view.js';
import { StoredPredictionQueries } from '../../read-models/stored-predictions/stored-prediction-queries.js';

/** How often the age limits of every deployment are applied (the count limit is applied after each store). */
const AGE_SWEEP_INTERVAL_MS = 10 * 60_000;
const DAY_MS = 86_400_000;
const SWEEP_CATCH_UP_MS = 10_000;

/**
 * Keeps the predictions of deployments whose prediction store is on: the image as a blob, the results in a
 * PredictionStored event, both written before the answer goes out, so an answered prediction is never lost.
 * The retention limits are applied afterwards, off the request: deleting old predictions is not the caller's wait.
 */
@Injectable()
export class PredictionKeeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PredictionKeeper.name);
  private timer?: NodeJS.Timeout;
  /** Deployments whose retention sweep is queued or running (one at a time per deployment). */
  private readonly sweeps = new Map<string, Promise<void>>();
  private readonly queued = new Set<string>();

  constructor(
    private readonly events: EventStore,
    private readonly blobs: BlobStore,
    private readonly readStore: ReadStore,
    private readonly projections: ProjectionRunner,
    private readonly stored: StoredPredictionQueries,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    @Optional() @Inject(READ_ONLY_PROCESS) private readonly readOnly = false,
  ) {}

  onApplicationBootstrap(): void {
    if (this.readOnly) return;
    this.timer = setInterval(() => void this.sweepAll(), AGE_SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled(this.sweeps.values());
  }

  /** Whether predictions of this deployment are kept. */
  keeps(deployment: DeploymentView): boolean {
    return deployment.predictionStore?.enabled === true;
  }

  /** Stores the image and records the prediction; returns the stored prediction's id. */
  async keep(
    deployment: DeploymentView,
    image: Buffer,
    predictions: StoredPredictionResult[],
    caller: { userId: string | null; correlationId: string },
  ): Promise<string> {
    const blob = await this.blobs.put(image);
    const predictionId = this.ids.newId();
    const metadata = commandMetadata(caller, this.clock.now());
    await decideAndAppend(
      this.events,
      storedPredictionStream(predictionId),
      storedPredictionDecider,
      {
        type: 'StorePrediction',
        projectId: deployment.projectId,
        deploymentId: deployment.id,
        predictionId,
        iterationId: deployment.iterationId,
        imageSha256: blob.sha256,
        imageBytes: blob.bytes,
        predictions,
        callerId: caller.userId,
        metadata,
      },
      metadata,
    );
    if (deployment.predictionStore?.maxCount) this.scheduleSweep(deployment.id);
    return predictionId;
  }

  /** Deletes a stored prediction at its owner's request; returns the log position for read-your-writes. */
  async delete(predictionId: string, context: { userId: string; correlationId: string }): Promise<number> {
    const metadata = commandMetadata(context, this.clock.now());
    const result = await decideAndAppend(
      this.events,
      storedPredictionStream(predictionId),
      storedPredictionDecider,
      { type: 'DeleteStoredPrediction', reason: 'deleted', metadata },
      metadata,
    );
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
      .catch((error: unknown) => this.logger.warn(`Retention sweep of deployment ${deploymentId} failed: ${(error as Error).message}`))
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
    const oldestFirst = await this.stored.ofDeployment(deploymentId);
    const overCount = limits.maxCount === null ? 0 : Math.max(0, oldestFirst.length - limits.maxCount);
    const expired = oldestFirst.filter(
      (view, index) => index < overCount || (limits.maxAgeDays !== null && now.getTime() - Date.parse(view.storedAt) > limits.maxAgeDays * DAY_MS),
    );
    const metadata = commandMetadata({ userId: null, correlationId: this.ids.newId() }, now);
    for (const view of expired) {
      await decideAndAppend(
        this.events,
        storedPredictionStream(view.id),
        storedPredictionDecider,
        { type: 'DeleteStoredPrediction', reason: 'retention', metadata },
        metadata,
      ).catch((error: unknown) => this.logger.warn(`Stored prediction ${view.id} not deleted: ${(error as Error).message}`));
    }
    return expired.length;
  }

  private async sweepAll(): Promise<void> {
    const deployments = await this.readStore.collection<DeploymentView>(DEPLOYMENTS).findAll({ status: 'active' });
    for (const deployment of deployments) if (deployment.predictionStore?.maxAgeDays) this.scheduleSweep(deployment.id);
  }
}
