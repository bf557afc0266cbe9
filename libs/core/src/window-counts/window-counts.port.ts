/** What is counted under one key in its current window. */
export interface WindowCount {
  count: number;
  /** Seconds until the window ends and the count starts again from zero (0 when nothing is counted). */
  secondsLeft: number;
}

/**
 * Counts per key in fixed windows: the first count opens a window of `windowSeconds`; the count is forgotten when
 * it ends. Failed sign-ins, registrations and predictions are counted this way. Adapters: in memory (one process),
 * Redis (shared by every api replica).
 */
export abstract class WindowCounts {
  /** Adds one under `key` and answers the count, this one included. */
  abstract record(key: string, windowSeconds: number): Promise<WindowCount>;

  /** The count under `key`, without adding to it. */
  abstract peek(key: string): Promise<WindowCount>;

  /** Forgets the count under `key` (e.g. failed sign-ins after a successful one). */
  abstract reset(key: string): Promise<void>;
}

/** The store that keeps the counts (Redis) does not answer: callers decide whether to refuse or count locally. */
export class WindowCountsUnavailableError extends Error {
  constructor(override readonly cause: unknown) {
    super(
      `Redis, which keeps the request counts, does not answer (${cause instanceof Error ? cause.message : String(cause)})`,
    );
    this.name = 'WindowCountsUnavailableError';
  }
}
