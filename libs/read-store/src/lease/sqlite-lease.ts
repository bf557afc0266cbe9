import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type HeldLease, Lease, leaseLost } from './lease.port.js';

/**
 * Leases in a SQLite file, for several processes sharing one data directory (an api and a second api on the
 * same embedded event log). A lease is a row with its owner and expiry; taking one is a single conditional
 * upsert, so two processes cannot both win.
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
        (this.db.prepare('SELECT position FROM leases WHERE name = ?').get(name) as { position: number }).position,
      advance: async (position) => {
        if (!whileHeld('UPDATE leases SET position = ?', position)) throw leaseLost(name);
      },
      renew: async () => whileHeld('UPDATE leases SET expires_at = ?', Date.now() + ttlMs),
      release: async () => {
        this.owned.delete(owner);
        this.db.prepare('UPDATE leases SET owner = NULL WHERE name = ? AND owner = ?').run(name, owner);
      },
    };
  }

  /** Idempotent: every Nest app sharing this process's modules may ask to close it. */
  async close(): Promise<void> {
    if (!this.db.open) return;
    const release = this.db.prepare('UPDATE leases SET owner = NULL WHERE owner = ?');
    for (const owner of this.owned) release.run(owner);
    this.owned.clear();
    this.db.close();
  }
}
