import { randomUUID } from 'node:crypto';
import { type HeldReservation, type InFlight, OneAtATime, QuotaReservations } from './quota-reservations.port.js';

interface Reservation {
  keys: readonly string[];
  adding: number;
  expiresAt: number;
}

/**
 * Reservations kept in this process: the embedded mode, where one api takes every upload of its data directory.
 * A user's checks run one after the other here.
 */
export class InProcessQuotaReservations extends QuotaReservations {
  private readonly reservations = new Map<string, Reservation>();
  private readonly turns = new OneAtATime();

  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  reserve(
    owner: string,
    keys: readonly string[],
    adding: number,
    ttlMs: number,
    check: (inFlight: InFlight) => Promise<void>,
  ): Promise<HeldReservation> {
    return this.turns.run(owner, async () => {
      await check(this.inFlight(keys));
      const id = randomUUID();
      const reservation: Reservation = { keys, adding, expiresAt: this.now() + ttlMs };
      this.reservations.set(id, reservation);
      return {
        renew: async () => {
          if (!this.reservations.has(id) || reservation.expiresAt <= this.now()) return false;
          reservation.expiresAt = this.now() + ttlMs;
          return true;
        },
        release: async () => {
          this.reservations.delete(id);
        },
      };
    });
  }

  private inFlight(keys: readonly string[]): InFlight {
    const now = this.now();
    const inFlight = new Map<string, number>();
    for (const [id, reservation] of this.reservations) {
      if (reservation.expiresAt <= now) {
        this.reservations.delete(id);
        continue;
      }
      if (reservation.adding === 0) continue;
      for (const key of reservation.keys) {
        if (keys.includes(key)) inFlight.set(key, (inFlight.get(key) ?? 0) + reservation.adding);
      }
    }
    return inFlight;
  }

  async close(): Promise<void> {
    this.reservations.clear();
  }
}
