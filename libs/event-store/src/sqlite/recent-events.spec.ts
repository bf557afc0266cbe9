import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../event-store.port.js';
import { RecentEvents } from './recent-events.js';

const metadata = { userId: null, correlationId: 'c', causationId: null, at: '2026-01-01T00:00:00.000Z' };

/** A log in memory that counts its reads. */
function logOf(length: number) {
  const events: RecordedEvent[] = Array.from({ length }, (_, position) => ({
    id: `e-${position}`,
    streamId: `s-${position}`,
    revision: 0,
    position,
    type: 'Happened',
    v: 1,
    data: {},
    metadata,
  }));
  const log = {
    events,
    reads: 0,
    readAfter: (after: number, limit: number) => {
      log.reads += 1;
      return events.filter((event) => event.position > after).slice(0, limit);
    },
  };
  return log;
}

const positions = (events: RecordedEvent[]) => events.map((event) => event.position);

describe('RecentEvents', () => {
  it('gives every reader the events after its position, reading the log once for readers at the same place', () => {
    const log = logOf(5);
    const recent = new RecentEvents(100);
    expect(positions(recent.read(-1, 1000, log.readAfter))).toEqual([0, 1, 2, 3, 4]);
    expect(positions(recent.read(-1, 1000, log.readAfter))).toEqual([0, 1, 2, 3, 4]);
    expect(positions(recent.read(2, 1000, log.readAfter))).toEqual([3, 4]);
    expect(positions(recent.read(1, 2, log.readAfter))).toEqual([2, 3]);
    expect(log.reads).toBe(1);
  });

  it('looks past the events held again after this process appends', () => {
    const log = logOf(3);
    const recent = new RecentEvents(100);
    recent.read(-1, 1000, log.readAfter);
    log.events.push({ ...log.events[0], id: 'e-3', streamId: 's-3', position: 3 });
    recent.appended();
    expect(positions(recent.read(2, 1000, log.readAfter))).toEqual([3]);
    expect(positions(recent.read(0, 1000, log.readAfter))).toEqual([1, 2, 3]);
    expect(log.reads).toBe(2);
  });

  it('sees events appended by another process from the next turn of the event loop', async () => {
    const log = logOf(2);
    const recent = new RecentEvents(100);
    recent.read(-1, 1000, log.readAfter);
    log.events.push({ ...log.events[0], id: 'e-2', streamId: 's-2', position: 2 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(positions(recent.read(1, 1000, log.readAfter))).toEqual([2]);
  });

  it('keeps its newest events for readers at the tail while a reader far behind catches up', () => {
    const log = logOf(10);
    const recent = new RecentEvents(4);
    expect(positions(recent.read(-1, 1000, log.readAfter))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const readsBefore = log.reads;
    expect(positions(recent.read(-1, 3, log.readAfter))).toEqual([0, 1, 2]);
    expect(log.reads).toBe(readsBefore + 1);
    expect(positions(recent.read(7, 1000, log.readAfter))).toEqual([8, 9]);
    expect(log.reads).toBe(readsBefore + 1);
  });
});
