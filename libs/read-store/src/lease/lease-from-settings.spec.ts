import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Settings } from '@diyml/core';
import { leaseFromSettings } from './lease-from-settings.js';
import type { Lease } from './lease.port.js';

describe('leaseFromSettings', () => {
  const opened: Lease[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    for (const lease of opened.splice(0)) await lease.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('gives two embedded processes sharing a data directory one holder per reactor, which hands its position on', async () => {
    const settings = Object.assign(new Settings(), { DATA_DIR: mkdtempSync(join(tmpdir(), 'diyml-leases-')) });
    dirs.push(settings.DATA_DIR);
    const [first, second] = await Promise.all([leaseFromSettings(settings), leaseFromSettings(settings)]);
    opened.push(first, second);
    const held = await first.tryAcquire('training', 10_000);
    expect(held).toBeDefined();
    await expect(second.tryAcquire('training', 10_000)).resolves.toBeUndefined();
    await held!.advance(41);
    await held!.release();
    const takenOver = await second.tryAcquire('training', 10_000);
    await expect(takenOver?.position()).resolves.toBe(41);
  });
});
