import type { RecordedEvent } from '../event-store.port.js';

/**
 * The events last read for this process's subscriptions (the projections and each reactor follow the log on
 * their own), so that each new event is read from SQLite and parsed once, not once per subscription, and the
 * subscriptions woken by one append look past the newest event once between them. It holds every event after
 * `from` up to the last one held: appends take the write lock one at a time and number events in commit order,
 * so no event can later appear inside that range. Subscriptions share the objects, as they must not change the
 * events they are given.
 */
export class RecentEvents {
  private events: RecordedEvent[] = [];
  private from = -1;
  /**
   * The log had nothing past the last event held when looked at in this turn of the event loop, and this
   * process appended nothing since: another subscription need not look again before the next turn.
   */
  private tailChecked = false;

  constructor(private readonly capacity: number) {}

  /** This process appended: the next read looks past the events held. */
  appended(): void {
    this.tailChecked = false;
  }

  /**
   * Up to `limit` events after `after`, reading only those past the ones held (`readAfter`); a read behind the
   * held range is passed through without replacing it, so a subscription catching up does not evict the tail.
   */
  read(after: number, limit: number, readAfter: (position: number, limit: number) => RecordedEvent[]): RecordedEvent[] {
    const last = this.lastPosition();
    if (after < this.from) return readAfter(after, limit);
    if (after > last) {
      const read = this.readTail(after, limit, readAfter);
      this.events = read;
      this.from = after;
      this.trim();
      return read;
    }
    const start = this.firstIndexAfter(after);
    const held = this.events.slice(start, start + limit);
    if (held.length === limit || this.tailChecked) return held;
    const more = this.readTail(last, limit - held.length, readAfter);
    if (more.length > 0) {
      this.events.push(...more);
      this.trim();
    }
    return held.length === 0 ? more : held.concat(more);
  }

  private readTail(
    after: number,
    limit: number,
    readAfter: (position: number, limit: number) => RecordedEvent[],
  ): RecordedEvent[] {
    const read = readAfter(after, limit);
    if (read.length < limit && !this.tailChecked) {
      this.tailChecked = true;
      // Events appended by other processes are seen from the next turn on.
      setImmediate(() => (this.tailChecked = false));
    }
    return read;
  }

  private lastPosition(): number {
    return this.events.length > 0 ? this.events[this.events.length - 1].position : this.from;
  }

  /** Index of the first held event after `position` (binary search: held events are in position order). */
  private firstIndexAfter(position: number): number {
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.events[middle].position <= position) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private trim(): void {
    const excess = this.events.length - this.capacity;
    if (excess <= 0) return;
    this.from = this.events[excess - 1].position;
    this.events = this.events.slice(excess);
  }
}
