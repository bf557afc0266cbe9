import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { Clock, IdGenerator, READ_ONLY_PROCESS } from '@diyml/core';
import { EventStore } from '@diyml/event-store';
import { ProjectionRunner, ReadStore } from '@diyml/read-store';
import { PENDING_CLAIMS, type PendingClaimView } from '../read-models/content-claims/pending-claims.projection.js';
import { ImageIntake } from './image-intake.js';

/**
 * A claim naming no process (v1, or made without leases) this old whose image was never recorded is abandoned: the upload that made it died (the api was
 * killed between claiming the content and recording the image). Younger ones may be in flight on another replica.
 */
export const STALE_CLAIM_AGE_MS = 10_000;

/**
 * At start, releases the content claims that crashed uploads left behind, so uploading the same bytes again
 * creates the image instead of answering "duplicate" of an image that does not exist. Claims too young to
 * judge at start are looked at again once they are old enough.
 */
@Injectable()
export class StaleClaimsSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StaleClaimsSweeper.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly events: EventStore,
    private readonly readStore: ReadStore,
    private readonly projections: ProjectionRunner,
    private readonly intake: ImageIntake,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    @Optional() @Inject(READ_ONLY_PROCESS) private readonly readOnly = false,
  ) {}

  /** Sweeps once the read models caught up; never in a read-only process (replay --verify), which appends nothing. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.readOnly) return;
    await this.projections.waitFor(await this.events.headPosition(), Number.POSITIVE_INFINITY);
    await this.sweep();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
  }

  /** Releases every abandoned claim; returns how many. */
  async sweep(): Promise<number> {
    const now = this.clock.now();
    const metadata = { userId: null, correlationId: this.ids.newId(), now };
    let released = 0;
    let nextInMs: number | undefined;
    for (const claim of await this.readStore.collection<PendingClaimView>(PENDING_CLAIMS).findAll()) {
      const age = now.getTime() - Date.parse(claim.claimedAt);
      // A claim naming its process is judged by that process's lease: released at once when it died, kept while it
      // lives (its upload may still be recorded; a stuck one is taken over after 60 s by the next upload of the file).
      const alive = await this.intake.processAlive(claim.processId ?? null);
      if (alive === true) continue;
      if (alive === undefined && age < STALE_CLAIM_AGE_MS) {
        nextInMs = Math.min(nextInMs ?? Number.POSITIVE_INFINITY, STALE_CLAIM_AGE_MS - age);
        continue;
      }
      // Fenced first: a process that only stalled must not record the image once its claim is released.
      if (!(await this.intake.abandonUpload(claim.projectId, claim.sha256, claim.id, metadata))) continue;
      await this.intake.release(claim.projectId, claim.sha256, claim.id, metadata);
      released += 1;
    }
    if (released) this.logger.warn(`Released ${released} content claim(s) of uploads that never completed`);
    if (nextInMs !== undefined) {
      this.timer = setTimeout(
        () =>
          void this.sweep().catch((error: unknown) => this.logger.error(`Sweeping claims failed: ${String(error)}`)),
        nextInMs,
      );
      this.timer.unref();
    }
    return released;
  }
}
