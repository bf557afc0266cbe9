import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout } from 'node:timers/promises';
import { blobStoreContract } from '../testing/blob-store.contract.js';
import { FsBlobStore } from './fs-blob-store.js';

blobStoreContract(
  'filesystem',
  async () => new FsBlobStore({ directory: mkdtempSync(join(tmpdir(), 'diyml-blobs-')) }),
);

describe('FsBlobStore on disk', () => {
  it('leaves only the finished blob in its folder, no temporary file, and survives a new instance', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'diyml-blobs-'));
    const store = new FsBlobStore({ directory });
    const { sha256 } = await store.put(Buffer.from('hello blobs'));
    expect(readdirSync(join(directory, sha256.slice(0, 2)))).toEqual([sha256]);
    const reopened = new FsBlobStore({ directory });
    expect((await reopened.get(sha256)).toString()).toBe('hello blobs');
  });

  it('writes a streamed blob beside the others, and removes the half-written file a crash left at the top', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'diyml-blobs-'));
    const store = new FsBlobStore({ directory });
    const { sha256 } = await store.putStream(Readable.from([Buffer.from('streamed '), Buffer.from('blob')]));
    expect(readdirSync(join(directory, sha256.slice(0, 2)))).toEqual([sha256]);
    const leftover = join(directory, '.tmp-0123456789abcdef');
    writeFileSync(leftover, 'half a video');
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(leftover, anHourAgo, anHourAgo);
    expect(await store.removeLeftovers()).toBe(1);
    expect(readdirSync(directory)).toEqual([sha256.slice(0, 2)]);
    expect((await store.get(sha256)).toString()).toBe('streamed blob');
  });

  it('removes a leftover that was too young at start once it is old enough, until closed', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'diyml-blobs-'));
    const store = new FsBlobStore({ directory });
    const { sha256 } = await store.put(Buffer.from('kept'));
    const leftover = join(directory, sha256.slice(0, 2), `.tmp-${sha256}-0123456789ab`);
    writeFileSync(leftover, 'half an image');
    expect(await store.removeLeftovers(60_000)).toBe(0);
    const reports: unknown[] = [];
    store.sweepLeftoversEvery(20, (outcome) => reports.push(outcome), 60_000);
    await setTimeout(100);
    expect(reports).toEqual([]);
    // A minute later, as the file's time says (the sweep is not timed against a busy machine's clock).
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    utimesSync(leftover, twoMinutesAgo, twoMinutesAgo);
    // The sweep reports once its removals are done: the file can be gone a moment before.
    while (reports.length === 0) await setTimeout(20);
    expect(readdirSync(join(directory, sha256.slice(0, 2)))).toEqual([sha256]);
    expect(reports).toEqual([{ removed: 1 }]);
    await store.close();
    writeFileSync(leftover, 'another half image');
    utimesSync(leftover, twoMinutesAgo, twoMinutesAgo);
    await setTimeout(400);
    expect(readdirSync(join(directory, sha256.slice(0, 2))).sort()).toEqual([sha256, leftover.split('/').pop()].sort());
  });
});
