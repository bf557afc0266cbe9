import { DomainError } from '@diyml/core/pure';

/**
 * The right to run one named piece of work (a reactor) in exactly one process at a time, plus how far into the
 * log that work got. The position lives beside the lease so whoever takes the lease over goes on from where
 * the last holder stopped, and only the current holder can move it (a holder that lost its lease cannot).
 */
export interface HeldLease {
  readonly name: string;
  /** The log position the work reached, -1 before it ever ran. */
  position(): Promise<number>;
  /** Records progress; throws LEASE_LOST when this holder no longer holds the lease. */
  advance(position: number): Promise<void>;
  /** Keeps the lease for another ttl; false when it was lost (expired and taken, or its connection died). */
  renew(): Promise<boolean>;
  /** Gives the lease up at once, keeping its position for the next holder. */
  release(): Promise<void>;
}

/**
 * Hands out leases. Adapters: SQLite (processes sharing a data directory), Redis (REDIS_URL), PostgreSQL
 * (POSTGRES_URL). One contract suite checks them all.
 */
export abstract class Lease {
  /** Takes the named lease for `ttlMs` when nobody holds it; undefined when another holder has it. */
  abstract tryAcquire(name: string, ttlMs: number): Promise<HeldLease | undefined>;
  /** Releases what this instance holds and closes its connection. */
  abstract close(): Promise<void>;
}

export function leaseLost(name: string): DomainError {
  return new DomainError(
    'conflict',
    'LEASE_LOST',
    `The lease "${name}" is held by another process now; this one stops its work.`,
  );
}
