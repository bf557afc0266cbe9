import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
});
