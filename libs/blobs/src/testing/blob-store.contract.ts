import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { DomainError } from '@diyml/core/pure';
import { BLOB_NOT_FOUND, type BlobStore } from '../blob-store.port.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The behaviour every BlobStore adapter must have. */
export function blobStoreContract(name: string, create: () => Promise<BlobStore>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;

    beforeEach(async () => {
      store = await create();
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores bytes under their sha256 and gives back the same bytes', async () => {
      const bytes = randomBytes(1000);
      const stored = await store.put(bytes);
      expect(stored).toEqual({ sha256: sha256(bytes), bytes: 1000 });
      expect(await store.has(stored.sha256)).toBe(true);
      const read = await store.get(stored.sha256);
      expect(Buffer.isBuffer(read)).toBe(true);
      expect(read.equals(bytes)).toBe(true);
    });

    it('stores an empty blob and a blob larger than one GridFS chunk', async () => {
      const empty = await store.put(new Uint8Array(0));
      expect((await store.get(empty.sha256)).length).toBe(0);
      const large = randomBytes(600 * 1024);
      const stored = await store.put(large);
      expect((await store.get(stored.sha256)).equals(large)).toBe(true);
    });

    it('accepts the same bytes twice, also at the same time, and keeps one readable copy', async () => {
      const bytes = randomBytes(2048);
      const results = await Promise.all([store.put(bytes), store.put(bytes), store.put(Uint8Array.from(bytes))]);
      expect(new Set(results.map((r) => r.sha256)).size).toBe(1);
      expect((await store.get(results[0].sha256)).equals(bytes)).toBe(true);
    });

    it('answers BLOB_NOT_FOUND (404) for a hash it does not hold, and for something that is not a hash', async () => {
      const missing = sha256(randomBytes(16));
      expect(await store.has(missing)).toBe(false);
      for (const address of [missing, '../../etc/passwd', 'ABC']) {
        const reading = store.get(address);
        await expect(reading).rejects.toBeInstanceOf(DomainError);
        await expect(reading).rejects.toMatchObject({ code: BLOB_NOT_FOUND, kind: 'not-found' });
      }
    });

    it('deletes a blob, and deleting a missing blob is not an error', async () => {
      const stored = await store.put(randomBytes(100));
      await store.delete(stored.sha256);
      expect(await store.has(stored.sha256)).toBe(false);
      await expect(store.get(stored.sha256)).rejects.toMatchObject({ code: BLOB_NOT_FOUND });
      await expect(store.delete(stored.sha256)).resolves.toBeUndefined();
    });

    it('keeps different bytes apart', async () => {
      const [a, b] = [randomBytes(64), randomBytes(64)];
      const [storedA, storedB] = await Promise.all([store.put(a), store.put(b)]);
      expect(storedA.sha256).not.toBe(storedB.sha256);
      expect((await store.get(storedA.sha256)).equals(a)).toBe(true);
      expect((await store.get(storedB.sha256)).equals(b)).toBe(true);
    });
  });
}
