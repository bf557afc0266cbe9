import { randomUUID } from 'node:crypto';
import { type HeldLease, Lease, leaseLost } from './lease.port.js';

interface Entry {
  owner?: string;
  expiresAt: number;
  position: number;
}

/** Leases for a single process (the embedded mode without a shared data directory, tests). */
export class InProcessLease extends Lease {
  private readonly entries = new Map<string, Entry>();

  async tryAcquire(name: string, ttlMs: number): Promise<HeldLease | undefined> {
    const entry = this.entries.get(name) ?? { expiresAt: 0, position: -1 };
    this.entries.set(name, entry);
    if (entry.owner && entry.expiresAt > Date.now()) return undefined;
    const owner = randomUUID();
    entry.owner = owner;
    entry.expiresAt = Date.now() + ttlMs;
    const held = () => entry.owner === owner && entry.expiresAt > Date.now();
    return {
      name,
      position: async () => entry.position,
      advance: async (position) => {
        if (!held()) throw leaseLost(name);
        entry.position = position;
      },
      renew: async () => {
        if (!held()) return false;
        entry.expiresAt = Date.now() + ttlMs;
        return true;
      },
      release: async () => {
        if (entry.owner === owner) entry.owner = undefined;
      },
    };
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
