import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
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
});
