import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { Clock, IdGenerator, READ_ONLY_PROCESS, toEventMetadata } from '../../../../core/src/index.js';
import { EventStore } from '../../../../event-store/src/index.js';
import { DeploymentSettings } from '../../deployment-settings.js';
import { addLatency, mergeCounts } from '../../domain/latency-histogram.js';
import { type DeploymentUsageRecorded, deploymentUsageStream } from '../../domain/usage.events.js';

export interface PredictionCall {
  projectId: string;
  deploymentId: string;
  /** A user id, or DEPLOYMENT_KEY_CALLER. */
  callerId: string;
  /** The error code of a failed call, null for a success. */
  errorCode: string | null;
  latencyMs: number;
  at: Date;
}

type Pending = DeploymentUsageRecorded['data'];

/**
 * Counts prediction calls in memory per deployment and hour, and appends the sums as one
 * DeploymentUsageRecorded per deployment and hour every USAGE_FLUSH_SECONDS and at shutdown. An event per
 * prediction would flood the log (thousands a minute on a busy endpoint); sums per flush are a handful, and
 * latency histograms of fixed buckets add up across flushes and processes, so reports still have percentiles.
 * The counts of the last interval are lost if the process is killed without a shutdown (a crash): the price
 * of not writing on every prediction. The usage streams are appended without an expected revision: their
 * events only add, in any order, and every api process writes them.
 */
@Injectable()
export class UsageRecorder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(UsageRecorder.name);
  private pending = new Map<string, Pending>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly events: EventStore,
    private readonly settings: DeploymentSettings,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    @Optional() @Inject(READ_ONLY_PROCESS) private readonly readOnly = false,
  ) {}

  onApplicationBootstrap(): void {
    if (this.readOnly) return;
    this.timer = setInterval(() => void this.flush(), this.settings.USAGE_FLUSH_SECONDS * 1000);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record(call: PredictionCall): void {
    if (this.readOnly) return;
    const hour = new Date(Math.floor(call.at.getTime() / 3_600_000) * 3_600_000).toISOString();
    const key = `${call.deploymentId}|${hour}`;
    let entry = this.pending.get(key);
    if (!entry) {
      entry = { projectId: call.projectId, deploymentId: call.deploymentId, hour, calls: 0, errors: {}, latency: {}, callers: {} };
      this.pending.set(key, entry);
    }
    entry.calls += 1;
    if (call.errorCode) entry.errors[call.errorCode] = (entry.errors[call.errorCode] ?? 0) + 1;
    addLatency(entry.latency, call.latencyMs);
    entry.callers[call.callerId] = (entry.callers[call.callerId] ?? 0) + 1;
  }

  /** Appends what was counted since the last flush; counts that could not be written are kept for the next one. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    const metadata = toEventMetadata({ userId: null, correlationId: this.ids.newId(), now: this.clock.now() });
    for (const [key, data] of batch) {
      try {
        await this.events.append(deploymentUsageStream(data.deploymentId), [{ type: 'DeploymentUsageRecorded', v: 1, data }], {
          expectedRevision: 'any',
          metadata,
        });
      } catch (error) {
        this.logger.warn(`Usage of deployment ${data.deploymentId} not written yet: ${(error as Error).message}`);
        this.keep(key, data);
      }
    }
  }

  private keep(key: string, data: Pending): void {
    const current = this.pending.get(key);
    if (!current) {
      this.pending.set(key, data);
      return;
    }
    current.calls += data.calls;
    mergeCounts(current.errors, data.errors);
    mergeCounts(current.latency, data.latency);
    mergeCounts(current.callers, data.callers);
  }
}
