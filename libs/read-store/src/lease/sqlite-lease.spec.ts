import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leaseContract } from '../testing/lease.contract.js';
import { SqliteLease } from './sqlite-lease.js';

leaseContract('SQLite file shared by processes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'diyml-lease-'));
  const opened: SqliteLease[] = [];
  return {
    async open() {
      const lease = new SqliteLease(join(dir, 'leases.sqlite'));
      opened.push(lease);
      return lease;
    },
    // A dead process neither renews nor releases: its lease runs out.
    crash: async () => {},
    async close() {
      for (const lease of opened) await lease.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
