/** A build that one or more callers wait for. */
interface Building<T> {
  promise: Promise<Kept<T>>;
  controller: AbortController;
  /** Callers still waiting: at 0 the build is abandoned. */
  waiters: number;
}

interface Kept<T> {
  value: T;
  /** Its share of the bound (e.g. read-model documents). */
  size: number;
}

/**
 * Values that never change once built (a project's read models as they were at a settled log position), kept by key
 * while their sizes together stay within `maxSize`, least recently used first out. Callers asking for the same key
 * while it is being built share one build; a build none of them waits for any more (their clients left) is aborted,
 * and the next caller starts a new one. `maxSize` 0 keeps nothing: every call builds for itself, as without a cache.
 */
export class SnapshotCache<T> {
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly kept = new Map<string, Kept<T>>();
  private readonly building = new Map<string, Building<T>>();
  private held = 0;

  constructor(private readonly maxSize: number) {}

  /** The sizes of the values kept, together (at most `maxSize`). */
  get size(): number {
    return this.held;
  }

  /** How many values are kept. */
  get count(): number {
    return this.kept.size;
  }

  /**
   * The value of `key`: kept, else from the build running for it, else from a new `build` (given the signal that
   * aborts it once no caller waits), returning the value and its size. `signal` (this caller's client left): this
   * call rejects at once with its reason; the build goes on while others wait for it.
   */
  async get(
    key: string,
    build: (signal: AbortSignal) => Promise<{ value: T; size: number }>,
    signal?: AbortSignal,
  ): Promise<T> {
    signal?.throwIfAborted();
    if (this.maxSize <= 0) return (await build(signal ?? new AbortController().signal)).value;
    const kept = this.kept.get(key);
    if (kept) {
      this.kept.delete(key);
      this.kept.set(key, kept);
      return kept.value;
    }
    const building = this.building.get(key) ?? this.start(key, build);
    return (await this.waitFor(key, building, signal)).value;
  }

  private start(key: string, build: (signal: AbortSignal) => Promise<{ value: T; size: number }>): Building<T> {
    const controller = new AbortController();
    const building = { controller, waiters: 0 } as Building<T>;
    building.promise = (async () => {
      try {
        const built = await build(controller.signal);
        if (this.building.get(key) === building) this.keep(key, built);
        return built;
      } finally {
        if (this.building.get(key) === building) this.building.delete(key);
      }
    })();
    // Abandoned builds reject with nobody waiting.
    building.promise.catch(() => undefined);
    this.building.set(key, building);
    return building;
  }

  private waitFor(key: string, building: Building<T>, signal?: AbortSignal): Promise<Kept<T>> {
    building.waiters += 1;
    return new Promise<Kept<T>>((resolve, reject) => {
      const leave = () => {
        building.waiters -= 1;
        if (building.waiters === 0) {
          // A later caller starts afresh rather than joining a build that stops.
          if (this.building.get(key) === building) this.building.delete(key);
          building.controller.abort(signal?.reason);
        }
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', leave, { once: true });
      building.promise.then(
        (built) => {
          signal?.removeEventListener('abort', leave);
          resolve(built);
        },
        (error: unknown) => {
          signal?.removeEventListener('abort', leave);
          reject(error);
        },
      );
    });
  }

  private keep(key: string, built: Kept<T>): void {
    // A value larger than the whole cache would only push everything else out.
    if (built.size > this.maxSize) return;
    this.kept.set(key, built);
    this.held += built.size;
    for (const [oldestKey, oldest] of this.kept) {
      if (this.held <= this.maxSize) break;
      this.kept.delete(oldestKey);
      this.held -= oldest.size;
    }
  }
}
