import { ConcurrencyGate, EventLoopSlices } from '@diyml/core/pure';
import type { EventStore, RecordedEvent } from '@diyml/event-store';
import type { ProjectHistoryEntry } from '@diyml/projects';

/** A project's streams as read once, complete up to `head`. */
interface HeldEvents {
  store: EventStore;
  projectId: string;
  head: number;
  streams: ReadonlySet<string>;
  events: RecordedEvent[];
}

/**
 * Reads of a whole project from the log (an `asOf` snapshot, an export's collection) run one at a time in this
 * process. Each holds the project's events (a snapshot also a copy of its read models) and runs on the event loop:
 * two at once are no faster than one after the other, and take twice the memory (a snapshot and an export side by
 * side grew the api by 577 MiB on 5,000 images, one alone by ~300).
 *
 * The events one read took from the store are kept for the reads already queued behind it, and dropped once none
 * waits: the log never changes below its head, and reading every stream of the project was 94 % of an `asOf` query's
 * CPU (110 queries at different positions on 5,000 images read all its streams 110 times).
 */
export class WholeProjectReads {
  private readonly gate = new ConcurrencyGate(1);
  private held?: HeldEvents;

  /**
   * Runs `work` when no other whole-project read runs. `signal` (the request's client left): a read still waiting
   * leaves the queue, rejecting with the signal's reason.
   */
  run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.gate.run(
      async () => {
        try {
          return await work();
        } finally {
          if (this.gate.queued === 0) this.held = undefined;
        }
      },
      { signal },
    );
  }

  /**
   * The events at positions up to `upTo` of the streams that `history` (the project's history entries) names up to
   * that position, in log order. Called within `run`. Reads every stream the history names, or takes them from the
   * last read of the same project when that one covers them.
   */
  async eventsUpTo(
    events: EventStore,
    projectId: string,
    history: readonly ProjectHistoryEntry[],
    upTo: number,
    slices: EventLoopSlices,
  ): Promise<RecordedEvent[]> {
    const wanted = new Set(history.filter((entry) => entry.position <= upTo).map((entry) => entry.stream));
    const held =
      this.covering(events, projectId, wanted, upTo) ?? (await this.read(events, projectId, history, slices));
    const found: RecordedEvent[] = [];
    for (const event of held.events) if (event.position <= upTo && wanted.has(event.streamId)) found.push(event);
    return found;
  }

  private covering(
    store: EventStore,
    projectId: string,
    wanted: ReadonlySet<string>,
    upTo: number,
  ): HeldEvents | undefined {
    const held = this.held;
    if (held?.store !== store || held.projectId !== projectId || held.head < upTo) return undefined;
    for (const stream of wanted) if (!held.streams.has(stream)) return undefined;
    return held;
  }

  private async read(
    events: EventStore,
    projectId: string,
    history: readonly ProjectHistoryEntry[],
    slices: EventLoopSlices,
  ): Promise<HeldEvents> {
    // The head first: every event of these streams up to it is then in what is read after.
    const head = await events.headPosition();
    const streams = new Set(history.map((entry) => entry.stream));
    const recorded: RecordedEvent[] = [];
    for (const stream of streams) {
      recorded.push(...(await events.readStream(stream)));
      await slices.breathe();
    }
    recorded.sort((a, b) => a.position - b.position);
    this.held = { store: events, projectId, head, streams, events: recorded };
    return this.held;
  }
}

/** The process's one queue of whole-project reads. */
export const WHOLE_PROJECT_READS = new WholeProjectReads();
