import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { DomainError, READ_ONLY_PROCESS } from '@diyml/core';
import { EventStore, type RecordedEvent, type Subscription } from '@diyml/event-store';
import { type HeldLease, Lease } from './lease/lease.port.js';
import { isReadModelProjection, type Projection } from './projection.js';
import { ReadStore } from './read-store.port.js';

const CHECKPOINT_EVERY_EVENTS = 500;
const CHECKPOINT_EVERY_MS = 250;
/** Shared read models: how soon after an event the projecting process publishes its checkpoints to the others. */
const SHARED_CHECKPOINT_DELAY_MS = 10;
/** How often a following process reads the shared checkpoints while a request waits for them, and otherwise. */
const FOLLOW_POLL_MS = 20;
const FOLLOW_IDLE_POLL_MS = 500;
const DEFAULT_WAIT_MS = 5000;
/** The lease whose holder projects into read models shared between processes. */
export const PROJECTIONS_LEASE = 'projections';
const PROJECTIONS_LEASE_TTL_MS = 10_000;
/** Collection where events a projection could not apply are recorded with their error. */
export const PARKED_EVENTS = 'parked-events';

/** An event a projection failed to apply after its retries, skipped so the others go on. */
export interface ParkedEvent {
  id: string;
  projection: string;
  position: number;
  streamId: string;
  type: string;
  error: string;
}

/** How far the read models got and the events parked on the way, as /health shows them. */
export interface ProjectionStatus {
  /** The last log position every projection has applied. */
  position: number;
  /** Parked events, oldest first. */
  parked: readonly ParkedEvent[];
}

interface Tracked {
  projection: Projection;
  handles: (type: string) => boolean;
  position: number;
}

/**
 * Drives every @ReadModelProjection from one checkpointed subscription to the log. At start it rebuilds
 * projections whose version changed, and catches up before the app serves requests. An event a projection
 * keeps failing on is retried a few times, then parked (recorded with its error, shown by /health) so it blocks
 * neither the other projections nor start-up.
 *
 * Read models that several processes share (PostgreSQL, MongoDB) are projected by one process at a time, the
 * holder of the projections lease; the others follow its checkpoints (read-your-writes waits for them) and take
 * the lease over when it is freed. Projections may read other documents while they apply an event (the images
 * projection reads an image to count its labels): with several writers, one could read what another wrote for
 * later events and count twice or not at all.
 */
@Injectable()
export class ProjectionRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ProjectionRunner.name);
  private tracked: Tracked[] = [];
  private subscription?: Subscription;
  private position = -1;
  private waiters: { position: number; resolve: () => void }[] = [];
  private sinceCheckpoint = 0;
  private lastCheckpointAt = 0;
  private parkedEvents: ParkedEvent[] = [];
  private checkpointing: Promise<void> = Promise.resolve();
  private checkpointTimer?: NodeJS.Timeout;
  /** Shared read models: the projections to run once this process holds the lease. */
  private toProject: readonly Projection[] = [];
  /** Shared read models: the lease while this process projects; undefined while it follows another. */
  private held?: HeldLease;
  private leaseTimer?: NodeJS.Timeout;
  private leaseCheck: Promise<void> = Promise.resolve();
  private following?: Promise<void>;
  private wakeFollower: () => void = () => {};
  private stopped = false;
  /** Shared read models: another process claimed them while this one projected; its events are ignored until it follows. */
  private fenced = false;
  private steppingDown: Promise<void> = Promise.resolve();
  /** Pauses before each retry of a failed apply; after the last one the event is parked. */
  retryDelaysMs: readonly number[] = [100, 1000, 5000];
  leaseTtlMs = PROJECTIONS_LEASE_TTL_MS;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly events: EventStore,
    private readonly readStore: ReadStore,
    @Optional() @Inject(READ_ONLY_PROCESS) private readonly readOnly = false,
    @Optional() private readonly lease?: Lease,
  ) {}

  /** Starts projecting, except in a read-only process (which must not save checkpoints or run reactors). */
  async onApplicationBootstrap(): Promise<void> {
    if (this.readOnly) return;
    await this.start(this.discover());
  }

  /** Every @ReadModelProjection of the app, reactors included. */
  discover(): Projection[] {
    return this.discovery
      .getProviders()
      .map((wrapper): unknown => wrapper.instance)
      .filter(isReadModelProjection);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /**
   * Starts projecting (or, for shared read models held by another process, following); resolves once the read
   * models have caught up with the log as it was.
   */
  async start(projections: readonly Projection[]): Promise<void> {
    this.stopped = false;
    if (!this.readStore.sharedBetweenProcesses || !this.lease) return this.project(projections);
    this.toProject = projections;
    const head = await this.events.headPosition();
    await this.checkLease();
    if (!this.held) this.logger.log('Another process projects the shared read models: following its checkpoints');
    this.scheduleLeaseCheck();
    await this.waitFor(head, Number.POSITIVE_INFINITY);
  }

  /** Whether this process applies events to the read models (false while another process does it for shared ones). */
  get projecting(): boolean {
    return this.subscription !== undefined;
  }

  private async project(projections: readonly Projection[]): Promise<void> {
    this.fenced = false;
    this.tracked = [];
    for (const projection of projections) {
      const checkpoint = await this.readStore.checkpoints.get(projection.name);
      let position = checkpoint?.position ?? -1;
      if (checkpoint && checkpoint.version !== projection.version) {
        this.logger.log(`Rebuilding ${projection.name}: version ${checkpoint.version} -> ${projection.version}`);
        for (const name of projection.collections) await this.readStore.collection(name).clear();
        position = -1;
      }
      const types = new Set(projection.eventTypes);
      const handles = projection.eventTypes === 'all' ? () => true : (type: string) => types.has(type);
      this.tracked.push({ projection, handles, position });
    }
    // Until this write a crash leaves the old versions' checkpoints, so a rebuild would start over: no harm.
    await this.saveCheckpoints();
    this.parkedEvents = await this.readStore.collection<ParkedEvent>(PARKED_EVENTS).findAll();
    // Also answers waiters that came before this process took the projections over.
    this.advanceTo(this.tracked.length ? Math.min(...this.tracked.map((t) => t.position)) : -1);
    const head = await this.events.headPosition();
    if (this.stopped || this.fenced) return;
    const started = Date.now();
    this.subscription = this.events.subscribeToAll(this.position, (event) => this.handle(event));
    await this.waitFor(head, Number.POSITIVE_INFINITY);
    if (head >= 0) this.logger.log(`Read models caught up to position ${head} in ${Date.now() - started} ms`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.leaseTimer);
    clearTimeout(this.checkpointTimer);
    this.wakeFollower();
    await this.leaseCheck;
    await this.steppingDown;
    await this.following;
    const wasProjecting = this.projecting && !this.fenced;
    await this.subscription?.close();
    this.subscription = undefined;
    // A follower's positions are another process's: writing them could move the shared checkpoints back.
    if (wasProjecting) await this.saveCheckpoints().catch((error: unknown) => this.unlessFencedOut(error));
    if (this.held) this.readStore.releaseWrites();
    await this.held?.release().catch(() => {});
    this.held = undefined;
  }

  private scheduleLeaseCheck(): void {
    if (this.stopped) return;
    this.leaseTimer = setTimeout(() => {
      this.leaseCheck = this.checkLease()
        .catch((error: unknown) => this.logger.error(`Projections lease check failed: ${String(error)}`))
        .finally(() => this.scheduleLeaseCheck());
    }, this.leaseTtlMs / 3);
  }

  /** Takes the lease when it is free and projects; renews it while held; follows again when it was lost. */
  private async checkLease(): Promise<void> {
    if (this.stopped || !this.lease) return;
    if (this.held) {
      if (await this.held.renew()) return;
      this.stepDown('Lost the projections lease');
      await this.steppingDown;
      return;
    }
    const held = await this.lease.tryAcquire(PROJECTIONS_LEASE, this.leaseTtlMs);
    if (!held) {
      this.following ??= this.follow();
      return;
    }
    try {
      // Before this process writes anything: from now on writes of the process that projected before are refused,
      // also a batch it has in flight (it may not know yet that it lost the lease).
      await this.readStore.claimWrites();
    } catch (error) {
      await held.release().catch(() => {});
      throw error;
    }
    this.held = held;
    this.wakeFollower();
    await this.following;
    this.following = undefined;
    this.logger.log('Took the projections lease: this process projects the shared read models');
    // Not awaited: catching up may outlast the lease's ttl, and the lease must be renewed meanwhile.
    void this.project(this.toProject)
      .catch((error: unknown) => this.unlessFencedOut(error))
      .catch((error: unknown) => this.logger.error(`Projecting failed: ${String(error)}`));
  }

  /**
   * Stops projecting and follows: the lease was lost, or another process claimed the read models (then this one's
   * writes are refused). Not awaited by a subscription handler: closing the subscription waits for the handler.
   */
  private stepDown(reason: string): void {
    if (this.fenced || !this.held) return;
    this.logger.warn(`${reason}: following the process that projects now`);
    this.fenced = true;
    const held = this.held;
    this.held = undefined;
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    this.steppingDown = (async () => {
      await this.subscription?.close();
      this.subscription = undefined;
      await this.readStore.flush().catch((error: unknown) => this.unlessFencedOut(error));
      this.readStore.releaseWrites();
      await held.release().catch(() => {});
      if (!this.stopped) this.following ??= this.follow();
    })();
  }

  /** Rethrows an error unless it says another process claimed the read models, in which case this one steps down. */
  private unlessFencedOut(error: unknown): void {
    if (!(error instanceof DomainError && error.code === 'LEASE_LOST')) throw error;
    this.stepDown('Another process claimed the shared read models');
  }

  /** The position every projection reached by the shared checkpoints. */
  private async sharedPosition(): Promise<number> {
    const checkpoints = await Promise.all(
      this.toProject.map((projection) => this.readStore.checkpoints.get(projection.name)),
    );
    return checkpoints.length ? Math.min(...checkpoints.map((checkpoint) => checkpoint?.position ?? -1)) : -1;
  }

  /** While another process projects: reads how far its checkpoints got, and answers the waiters it reached. */
  private async follow(): Promise<void> {
    while (!this.stopped && !this.held) {
      try {
        const reached = await this.sharedPosition();
        if (reached > this.position) this.advanceTo(reached);
      } catch (error) {
        this.logger.warn(`Reading the shared checkpoints failed, retrying: ${String(error)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.waiters.length ? FOLLOW_POLL_MS : FOLLOW_IDLE_POLL_MS);
        this.wakeFollower = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeFollower = () => {};
    }
  }

  private advanceTo(position: number): void {
    this.position = position;
    const ready = this.waiters.filter((waiter) => waiter.position <= position);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => waiter.position > position);
    for (const waiter of ready) waiter.resolve();
  }

  /** The projections this runner drives. */
  get projections(): Projection[] {
    return this.tracked.map((tracked) => tracked.projection);
  }

  /** Events parked since this process started, oldest first. */
  get parked(): readonly ParkedEvent[] {
    return this.parkedEvents;
  }

  /**
   * Position and parked events as of now. A process following another's shared read models reads them from the
   * shared store (the projecting process's checkpoints and parked events), not from its own memory.
   */
  async status(): Promise<ProjectionStatus> {
    const inLogOrder = (parked: readonly ParkedEvent[]) =>
      [...parked].sort((a, b) => a.position - b.position || a.projection.localeCompare(b.projection));
    if (this.projecting || !this.readStore.sharedBetweenProcesses || this.toProject.length === 0) {
      return { position: this.position, parked: inLogOrder(this.parkedEvents) };
    }
    const [position, parked] = await Promise.all([
      this.sharedPosition(),
      this.readStore.collection<ParkedEvent>(PARKED_EVENTS).findAll(),
    ]);
    if (position > this.position) this.advanceTo(position);
    return { position: this.position, parked: inLogOrder(parked) };
  }

  /** The last log position every projection has applied. */
  get currentPosition(): number {
    return this.position;
  }

  /** Read-your-writes: resolves once projections have applied `position`; 503 after `timeoutMs`. */
  async waitFor(position: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    if (position <= this.position) {
      // Applied before the writer asked (the subscription was quicker than the append's answer): its changes may
      // still be held back, and what the writer reads next may be served by another replica.
      if (this.readStore.sharedBetweenProcesses) await this.readStore.flush();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = { position, resolve: () => (clearTimeout(timer), resolve()) };
      const timer =
        timeoutMs === Number.POSITIVE_INFINITY
          ? undefined
          : setTimeout(() => {
              this.waiters = this.waiters.filter((w) => w !== waiter);
              reject(
                new DomainError(
                  'unavailable',
                  'READ_MODEL_LAGGING',
                  'The change was saved but is not readable yet: retry the read shortly.',
                ),
              );
            }, timeoutMs);
      this.waiters.push(waiter);
      // A follower reads the shared checkpoints at once rather than at its idle pace.
      this.wakeFollower();
    });
  }

  private async handle(event: RecordedEvent): Promise<void> {
    if (this.fenced) return;
    try {
      await this.applyToAll(event);
    } catch (error) {
      this.unlessFencedOut(error);
    }
  }

  private async applyToAll(event: RecordedEvent): Promise<void> {
    for (const tracked of this.tracked) {
      if (tracked.position >= event.position) continue;
      if (tracked.handles(event.type)) await this.applyOrPark(tracked.projection, event);
      tracked.position = event.position;
    }
    this.position = event.position;
    this.sinceCheckpoint += 1;
    if (this.sinceCheckpoint >= CHECKPOINT_EVERY_EVENTS || Date.now() - this.lastCheckpointAt >= CHECKPOINT_EVERY_MS) {
      await this.saveCheckpoints();
    } else if (this.held) {
      this.checkpointTimer ??= setTimeout(() => {
        this.checkpointTimer = undefined;
        this.saveCheckpoints()
          .catch((error: unknown) => this.unlessFencedOut(error))
          .catch((error: unknown) => this.logger.warn(`Saving checkpoints failed: ${String(error)}`));
      }, SHARED_CHECKPOINT_DELAY_MS);
    }
    const ready = this.waiters.filter((waiter) => waiter.position <= event.position);
    if (ready.length) {
      this.waiters = this.waiters.filter((waiter) => waiter.position > event.position);
      // What the waiters read next may be served by another replica: the changes must be in the store.
      await this.readStore.flush();
      for (const waiter of ready) waiter.resolve();
    }
  }

  private async applyOrPark(projection: Projection, event: RecordedEvent): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await projection.apply(event, this.readStore);
      } catch (error) {
        // Not the event's fault: this process may no longer write the read models at all.
        if (error instanceof DomainError && error.code === 'LEASE_LOST') throw error;
        const where = `${projection.name} failed on ${event.type} at position ${event.position}`;
        if (attempt < this.retryDelaysMs.length) {
          this.logger.warn(`${where}, retrying: ${String(error)}`);
          await new Promise((resolve) => setTimeout(resolve, this.retryDelaysMs[attempt]));
          continue;
        }
        this.logger.error(
          `${where} ${attempt + 1} times; parking the event: ${(error as Error).stack ?? String(error)}`,
        );
        return this.park(projection, event, error);
      }
    }
  }

  private async park(projection: Projection, event: RecordedEvent, error: unknown): Promise<void> {
    const parked: ParkedEvent = {
      id: `${projection.name}@${event.position}`,
      projection: projection.name,
      position: event.position,
      streamId: event.streamId,
      type: event.type,
      error: error instanceof Error ? error.message : String(error),
    };
    this.parkedEvents.push(parked);
    try {
      await this.readStore.collection<ParkedEvent>(PARKED_EVENTS).apply(parked.id, event.position, () => parked);
    } catch (recordError) {
      this.logger.error(`Recording the parked event ${parked.id} failed: ${String(recordError)}`);
    }
  }

  /**
   * Every projection's checkpoint in one write. Saved after the events up to it were applied, so a crash
   * before the write only repeats events, which position-guarded document writes ignore. One save at a time,
   * each with the positions of when it starts, so a slower earlier save never writes older positions last.
   */
  private saveCheckpoints(): Promise<void> {
    const save = this.checkpointing.then(async () => {
      this.sinceCheckpoint = 0;
      this.lastCheckpointAt = Date.now();
      await this.readStore.checkpoints.setAll(
        new Map(
          this.tracked.map(({ projection, position }) => [projection.name, { position, version: projection.version }]),
        ),
      );
    });
    this.checkpointing = save.catch(() => {});
    return save;
  }
}
