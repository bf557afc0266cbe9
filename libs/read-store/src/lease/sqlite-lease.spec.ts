import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
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

describe('SQLite lease rows', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const leaseFile = () => {
    const dir = mkdtempSync(join(tmpdir(), 'diyml-lease-rows-'));
    dirs.push(dir);
    return join(dir, 'leases.sqlite');
  };
  const rowsOf = (file: string) => {
    const db = new Database(file, { readonly: true });
    const rows = db.prepare('SELECT name, position FROM leases ORDER BY name').all();
    db.close();
    return rows;
  };

  it('at start, deletes the lapsed rows of processes that died, keeping living leases and recorded positions', async () => {
    const file = leaseFile();
    // A process that is killed: it neither releases nor closes, and its short lease lapses. Its reactor's lease,
    // given up before, keeps the position the next holder goes on from.
    const killed = new SqliteLease(file);
    const reactor = (await killed.tryAcquire('reactor-projections', 10_000))!;
    await reactor.advance(42);
    await reactor.release();
    await killed.tryAcquire('upload-process:killed', 1);
    const living = new SqliteLease(file);
    await living.tryAcquire('upload-process:living', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 20));

    const started = new SqliteLease(file);
    expect(rowsOf(file)).toEqual([
      { name: 'reactor-projections', position: 42 },
      { name: 'upload-process:living', position: -1 },
    ]);
    expect(await (await started.tryAcquire('reactor-projections', 10_000))!.position()).toBe(42);
    for (const lease of [killed, living, started]) await lease.close();
  });

  it('deletes a row that holds no position once its lease is given up (released, taken over, closed)', async () => {
    const file = leaseFile();
    const lease = new SqliteLease(file);
    const killed = new SqliteLease(file);
    await killed.tryAcquire('upload-process:killed', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Another process asks whether the dead one lives: it takes the lapsed lease over and gives it up at once.
    await (await lease.tryAcquire('upload-process:killed', 1000))!.release();
    const reactor = (await lease.tryAcquire('reactor-projections', 10_000))!;
    await reactor.advance(7);
    await lease.tryAcquire('upload-process:own', 10_000);
    expect(rowsOf(file)).toEqual([
      { name: 'reactor-projections', position: 7 },
      { name: 'upload-process:own', position: -1 },
    ]);
    await lease.close();
    expect(rowsOf(file)).toEqual([{ name: 'reactor-projections', position: 7 }]);
    await killed.close();
  });
});
