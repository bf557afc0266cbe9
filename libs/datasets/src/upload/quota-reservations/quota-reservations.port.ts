/** A reservation taken by `QuotaReservations.reserve`, counted until released or until it lapses. */
export interface HeldReservation {
  /** Keeps the reservation for another ttl; false when it had lapsed already (it counts no more). */
  renew(): Promise<boolean>;
  /** Gives the reservation back at once. */
  release(): Promise<void>;
}

/** Images reserved by requests in flight, by quota key (`user:<id>`, `project:<id>`). */
export type InFlight = ReadonlyMap<string, number>;

/**
 * Images that requests are taking in and the read models do not count yet, reserved under quota keys, and the
 * check of each owner run one at a time: a check sees every reservation made before it, and none is made between
 * its reading and its reserving. Adapters: in this process (embedded mode), PostgreSQL (advisory transaction locks
 * and a table), Redis (a lock key and sorted sets): the shared ones hold across every process using the same store.
 * A reservation not renewed within its ttl lapses, so the reservations of a process that died free the room.
 * One contract suite checks them all.
 */
export abstract class QuotaReservations {
  /**
   * Runs `check` with the images reserved under `keys` (a key nobody reserved under is absent), alone among the
   * checks of `owner`; when it returns, reserves `adding` images under each key for `ttlMs`. A check that throws
   * reserves nothing, and its error is thrown.
   */
  abstract reserve(
    owner: string,
    keys: readonly string[],
    adding: number,
    ttlMs: number,
    check: (inFlight: InFlight) => Promise<void>,
  ): Promise<HeldReservation>;

  /** Closes the connection; reservations still held lapse with their ttl. */
  abstract close(): Promise<void>;
}

/**
 * Runs the work given for one key one after the other, in the order given (a promise chain per key), so a
 * process sends one owner's checks to a shared store one at a time instead of holding a connection per waiting
 * request.
 */
export class OneAtATime {
  private readonly chains = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.chains.get(key) ?? Promise.resolve();
    const turn = before.then(work);
    const settled = turn.catch(() => undefined);
    this.chains.set(key, settled);
    try {
      return await turn;
    } finally {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    }
  }
}
