import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { READ_ONLY_PROCESS } from '@diyml/core';
import { EventStore, type RecordedEvent, type Subscription } from '@diyml/event-store';
import { JobQueue } from '@diyml/jobs';
import { type HeldLease, Lease } from '../lease/lease.port.js';
import { EventReactor, type Reactor } from './reactor.js';

export interface ReactorRunnerOptions {
  /** How long a lease lasts without renewal: how soon another replica takes over from one that died. */
  leaseTtlMs: number;
  /**
   * Whether a new holder goes on from the stored position. Only when the reactor's effects outlive the process
   * (jobs on Redis): jobs of an in-process queue die with it, so a new holder starts from the beginning and
   * queues again what is unfinished (jobs are deduplicated by id, and a finished job does nothing).
   */
  resume: boolean;
}

export const DEFAULT_LEASE_TTL_MS = 10_000;

/**
 * Runs each @EventReactor() in exactly one replica: every replica tries to take the reactor's lease; the holder
 * subscribes to the log from the reactor's position, reacts, records its progress through the lease and
 * renews it; when it loses the lease (or stops), another replica takes over.
 */
@Injectable()
export class ReactorRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private loops: ReactorLoop[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly events: EventStore,
    private readonly lease: Lease,
    private readonly jobs: JobQueue,
    @Optional() @Inject(READ_ONLY_PROCESS) private readonly readOnly = false,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.readOnly) return;
    const reactors = this.discovery
      .getProviders({ metadataKey: EventReactor.KEY })
      .map((wrapper) => wrapper.instance as Reactor)
      .filter(Boolean);
    this.start(reactors, { leaseTtlMs: DEFAULT_LEASE_TTL_MS, resume: this.jobs.outlivesProcess });
  }

  /** Stops reacting before the job queue and the log close, and hands the leases to another replica. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  start(reactors: readonly Reactor[], options: ReactorRunnerOptions): void {
    this.loops = reactors.map((reactor) => new ReactorLoop(reactor, this.events, this.lease, options));
  }

  async stop(): Promise<void> {
    await Promise.all(this.loops.map((loop) => loop.stop()));
    this.loops = [];
  }

  /** Names of the reactors this replica runs now. */
  get holding(): string[] {
    return this.loops.filter((loop) => loop.holding).map((loop) => loop.name);
  }
}

/** One reactor: take the lease, react while holding it, try again after losing it. */
class ReactorLoop {
  private readonly logger: Logger;
  private stopped = false;
  private held?: HeldLease;
  private subscription?: Subscription;
  private timer?: NodeJS.Timeout;
  private reached = -1;
  private saved = -1;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly reactor: Reactor,
    private readonly events: EventStore,
    private readonly lease: Lease,
    private readonly options: ReactorRunnerOptions,
  ) {
    this.logger = new Logger(`Reactor ${reactor.name}`);
    this.schedule(0);
  }

  get name(): string {
    return this.reactor.name;
  }

  get holding(): boolean {
    return this.held !== undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.giveUp('stopping');
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().catch((error: unknown) => this.logger.error(`Lease check failed: ${String(error)}`));
      void this.running.then(() => this.schedule(this.options.leaseTtlMs / 3));
    }, delayMs);
  }

  /** Takes the lease when free, or renews it and records progress when held. */
  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (!this.held) return this.acquire();
    if (!(await this.held.renew())) return this.giveUp('its lease was taken over');
    await this.saveProgress();
  }

  private async acquire(): Promise<void> {
    const held = await this.lease.tryAcquire(this.reactor.name, this.options.leaseTtlMs);
    if (!held) return;
    const from = this.options.resume ? await held.position() : -1;
    this.held = held;
    this.reached = this.saved = from;
    const types = new Set(this.reactor.eventTypes);
    this.logger.log(`Took the lease; reacting after position ${from}`);
    this.subscription = this.events.subscribeToAll(from, async (event: RecordedEvent) => {
      if (this.held !== held) return;
      if (types.has(event.type)) {
        await this.reactor.react(event);
        this.reached = event.position;
        // A stored position is read only to resume from (jobs that outlive the process); otherwise the lease
        // renewal records it. A write per reaction cost a synchronous SQLite commit per uploaded image.
        if (this.options.resume) await this.saveProgress();
      } else {
        this.reached = event.position;
      }
    });
  }

  private async saveProgress(): Promise<void> {
    const held = this.held;
    if (!held || this.reached === this.saved) return;
    const reached = this.reached;
    try {
      await held.advance(reached);
      this.saved = reached;
    } catch (error) {
      this.logger.warn(`Stopping: ${(error as Error).message}`);
      // Not awaited: this may run inside the subscription's handler, which closing the subscription awaits.
      void this.giveUp('its lease was lost');
    }
  }

  private async giveUp(reason: string): Promise<void> {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close();
    if (this.saved !== this.reached) await held.advance(this.reached).catch(() => {});
    await held.release().catch(() => {});
    this.logger.log(`Gave the lease up: ${reason}`);
  }
}
