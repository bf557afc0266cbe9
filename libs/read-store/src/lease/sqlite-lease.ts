import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type HeldLease, Lease, leaseLost } from './lease.port.js';

/** A lease row whose work never recorded a position (an upload process's lease, or a reactor that never ran). */
const NEVER_ADVANCED = 'position = -1';

/**
 * Leases in a SQLite file, for several processes sharing one data directory (an api and a second api on the
 * same embedded event log). A lease is a row with its owner and expiry; taking one is a single conditional
 * upsert, so two processes cannot both win. A row that never recorded a position says nothing once its lease is
 * over (a new row starts at -1 just the same): it is deleted when given up, and at start when a process that died
 * left it (each process names its upload lease anew, so those rows would otherwise pile up for ever).
 */
export class SqliteLease extends Lease {
  private readonly db: Database.Database;
  private readonly owned = new Set<string>();

  constructor(filename: string) {
    super();
    if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
    this.db = new Database(filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS leases (
      name TEXT PRIMARY KEY,
      owner TEXT,
      expires_at INTEGER NOT NULL,
      position INTEGER NOT NULL DEFAULT -1
    )`);
    this.db
      .prepare(`DELETE FROM leases WHERE ${NEVER_ADVANCED} AND (owner IS NULL OR expires_at <= ?)`)
      .run(Date.now());
  }

  async tryAcquire(name: string, ttlMs: number): Promise<HeldLease | undefined> {
    const owner = randomUUID();
    const now = Date.now();
    const taken = this.db
      .prepare(
        `INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE leases.owner IS NULL OR leases.expires_at <= ?`,
      )
      .run(name, owner, now + ttlMs, now);
    if (taken.changes !== 1) return undefined;
    this.owned.add(owner);
    const whileHeld = (sql: string, ...values: unknown[]) =>
      this.db.prepare(`${sql} WHERE name = ? AND owner = ? AND expires_at > ?`).run(...values, name, owner, Date.now())
        .changes === 1;
    return {
      name,
      position: async () =>
        (this.db.prepare('SELECT position FROM leases WHERE name = ?').get(name) as { position: number } | undefined)
          ?.position ?? -1,
      advance: async (position) => {
        if (!whileHeld('UPDATE leases SET position = ?', position)) throw leaseLost(name);
      },
      renew: async () => whileHeld('UPDATE leases SET expires_at = ?', Date.now() + ttlMs),
      release: async () => {
        this.owned.delete(owner);
        this.giveUp(owner);
      },
    };
  }

  /** Frees the leases `owner` holds, keeping the rows that hold a position for the next holder. */
  private giveUp(owner: string): void {
    this.db.prepare(`DELETE FROM leases WHERE owner = ? AND ${NEVER_ADVANCED}`).run(owner);
    this.db.prepare('UPDATE leases SET owner = NULL WHERE owner = ?').run(owner);
  }

  /** Idempotent: every Nest app sharing this process's modules may ask to close it. */
  async close(): Promise<void> {
    if (!this.db.open) return;
    for (const owner of this.owned) this.giveUp(owner);
    this.owned.clear();
    this.db.close();
  }
}
