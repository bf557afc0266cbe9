import type { DomainEvent } from '@diyml/core/pure';
import {
  type AppendOptions,
  type AppendResult,
  type ReadAllOptions,
  type RecordedEvent,
  SqliteEventStore,
  type Upcasters,
} from '@diyml/event-store';

/** What pg throws when the server cannot be reached: the api answers it 503 DEPENDENCY_UNAVAILABLE. */
function connectionRefused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
}

/**
 * The embedded SQLite store, able to lose its database connection the way a networked store does: at the next append
 * of a given event type the connection drops, before or after that append committed (the client cannot tell
 * which), and the store answers nothing until `restore()`.
 */
export class OutageEventStore extends SqliteEventStore {
  private away = false;
  private armed?: { type: string; committed: boolean; stayAway: boolean };

  constructor(filename: string, upcasters: Upcasters) {
    super({ filename, upcasters });
  }

  /**
   * The next append holding an event of `type` fails with a lost connection, having committed or not; with
   * `stayAway` the store then refuses everything until `restore()`.
   */
  dropConnectionAt(type: string, options: { committed: boolean; stayAway: boolean }): void {
    this.armed = { type, ...options };
  }

  restore(): void {
    this.away = false;
  }

  override async append(
    streamId: string,
    events: readonly DomainEvent[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    this.refuseWhileAway();
    const armed = this.armed;
    if (!armed || !events.some((event) => event.type === armed.type)) return super.append(streamId, events, options);
    this.armed = undefined;
    if (armed.committed) await super.append(streamId, events, options);
    this.away = armed.stayAway;
    throw connectionRefused();
  }

  override async readStream(streamId: string): Promise<RecordedEvent[]> {
    this.refuseWhileAway();
    return super.readStream(streamId);
  }

  override async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    this.refuseWhileAway();
    return super.readAll(options);
  }

  override async headPosition(): Promise<number> {
    this.refuseWhileAway();
    return super.headPosition();
  }

  private refuseWhileAway(): void {
    if (this.away) throw connectionRefused();
  }
}
