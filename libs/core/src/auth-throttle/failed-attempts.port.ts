/** The failures counted under one key in its current window. */
export interface AttemptCount {
  count: number;
  /** Seconds until the window ends and the count starts again from zero (0 when nothing is counted). */
  secondsLeft: number;
}

/**
 * Counts failed sign-in attempts per key (an account, a client address) in fixed windows: the first failure
 * opens a window of `windowSeconds`; the count is forgotten when it ends. Adapters: in memory (one process),
 * Redis (shared by every api replica).
 */
export abstract class FailedAttempts {
  /** Adds one failure under `key` and answers the count, this one included. */
  abstract record(key: string, windowSeconds: number): Promise<AttemptCount>;

  /** The count under `key`, without adding to it. */
  abstract peek(key: string): Promise<AttemptCount>;

  /** Forgets the failures under `key` (after a successful sign-in). */
  abstract reset(key: string): Promise<void>;
}
