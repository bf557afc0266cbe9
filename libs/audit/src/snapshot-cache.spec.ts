import { describe, expect, it } from 'vitest';
import { SnapshotCache } from './snapshot-cache.js';

/** Builds that finish when the test says so, recording what each was asked and whether it was aborted. */
class Builds {
  readonly started: { key: string; signal: AbortSignal; finish(size?: number): void; fail(error: Error): void }[] = [];

  for(key: string) {
    return (signal: AbortSignal) =>
      new Promise<{ value: string; size: number }>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        const number = this.started.length + 1;
        this.started.push({
          key,
          signal,
          finish: (size = 1) => resolve({ value: `${key} #${number}`, size }),
          fail: reject,
        });
      });
  }

  /** Builds that finish at once, with `size`. */
  instant(key: string, size: number) {
    return async (signal: AbortSignal) => {
      this.started.push({ key, signal, finish: () => undefined, fail: () => undefined });
      return { value: `${key} #${this.started.length}`, size };
    };
  }

  keys(): string[] {
    return this.started.map((build) => build.key);
  }
}

const reasonOf = (controller: AbortController) => controller.signal.reason as unknown;

describe('SnapshotCache', () => {
  it('answers the same key from the kept value, without building again', async () => {
    const cache = new SnapshotCache<string>(10);
    const builds = new Builds();
    expect(await cache.get('p1@5', builds.instant('p1@5', 3))).toBe('p1@5 #1');
    expect(await cache.get('p1@5', builds.instant('p1@5', 3))).toBe('p1@5 #1');
    expect(await cache.get('p1@6', builds.instant('p1@6', 3))).toBe('p1@6 #2');
    expect(builds.keys()).toEqual(['p1@5', 'p1@6']);
    expect(cache.size).toBe(6);
  });

  it('drops the least recently used values once their sizes pass the bound, and keeps none larger than it', async () => {
    const cache = new SnapshotCache<string>(10);
    const builds = new Builds();
    await cache.get('a', builds.instant('a', 4));
    await cache.get('b', builds.instant('b', 4));
    await cache.get('a', builds.instant('a', 4)); // a is now the most recently used
    await cache.get('c', builds.instant('c', 4)); // 12 > 10: b goes
    expect(cache.size).toBe(8);
    await cache.get('a', builds.instant('a', 4));
    await cache.get('b', builds.instant('b', 4));
    expect(builds.keys()).toEqual(['a', 'b', 'c', 'b']);

    // Larger than the whole bound: answered, not kept, and nothing else pushed out.
    expect(await cache.get('huge', builds.instant('huge', 11))).toBe('huge #5');
    expect(cache.count).toBe(2);
    await cache.get('huge', builds.instant('huge', 11));
    expect(builds.keys().filter((key) => key === 'huge')).toHaveLength(2);
  });

  it('keeps nothing with a bound of 0: every call builds with its own signal', async () => {
    const cache = new SnapshotCache<string>(0);
    const builds = new Builds();
    const client = new AbortController();
    await cache.get('a', builds.instant('a', 1), client.signal);
    await cache.get('a', builds.instant('a', 1));
    expect(builds.keys()).toEqual(['a', 'a']);
    expect(builds.started[0].signal).toBe(client.signal);
    expect(cache.count).toBe(0);
  });

  it('shares one build between the callers asking for the same key while it runs', async () => {
    const cache = new SnapshotCache<string>(10);
    const builds = new Builds();
    const answers = Promise.all([cache.get('a', builds.for('a')), cache.get('a', builds.for('a'))]);
    const other = cache.get('b', builds.for('b'));
    expect(builds.keys()).toEqual(['a', 'b']);
    builds.started[0].finish();
    builds.started[1].finish();
    expect(await answers).toEqual(['a #1', 'a #1']);
    expect(await other).toBe('b #2');
    expect(await cache.get('a', builds.for('a'))).toBe('a #1');
  });

  it('keeps building while one caller still waits after another left', async () => {
    const cache = new SnapshotCache<string>(10);
    const builds = new Builds();
    const leaving = new AbortController();
    const left = cache.get('a', builds.for('a'), leaving.signal);
    const staying = cache.get('a', builds.for('a'));
    leaving.abort(new Error('client left'));
    await expect(left).rejects.toThrow('client left');
    expect(builds.started[0].signal.aborted).toBe(false);
    builds.started[0].finish();
    expect(await staying).toBe('a #1');
  });

  it('aborts a build nobody waits for any more; the next caller starts a new one and keeps its value', async () => {
    const cache = new SnapshotCache<string>(10);
    const builds = new Builds();
    const clients = [new AbortController(), new AbortController()];
    const waiting = clients.map((client) => cache.get('a', builds.for('a'), client.signal));
    for (const client of clients) client.abort(new Error('client left'));
    await Promise.all(waiting.map((answer) => expect(answer).rejects.toThrow('client left')));
    expect(builds.started[0].signal.aborted).toBe(true);
    expect(builds.started[0].signal.reason).toBe(reasonOf(clients[1]));

    const later = cache.get('a', builds.for('a'));
    expect(builds.keys()).toEqual(['a', 'a']);
    builds.started[1].finish();
    expect(await later).toBe('a #2');
    expect(cache.count).toBe(1);
  });

  it('refuses a caller whose client already left, building nothing', async () => {
    const cache = new SnapshotCache<string>(10);
    const builds = new Builds();
    const client = new AbortController();
    client.abort(new Error('gone'));
    await expect(cache.get('a', builds.for('a'), client.signal)).rejects.toThrow('gone');
    expect(builds.keys()).toEqual([]);
  });

  it('gives every waiter a failed build’s error and keeps nothing, so the next call tries again', async () => {
    const cache = new SnapshotCache<string>(10);
    const builds = new Builds();
    const answers = [cache.get('a', builds.for('a')), cache.get('a', builds.for('a'))];
    builds.started[0].fail(new Error('store down'));
    for (const answer of answers) await expect(answer).rejects.toThrow('store down');
    const retry = cache.get('a', builds.for('a'));
    builds.started[1].finish();
    expect(await retry).toBe('a #2');
  });
});
