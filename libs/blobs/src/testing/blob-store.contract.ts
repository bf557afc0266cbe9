import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { DomainError } from '@diyml/core/pure';
import { BLOB_HASH_MISMATCH, BLOB_NOT_FOUND, type BlobStore } from '../blob-store.port.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The bytes in pieces of uneven sizes, as an inflating zip entry or an upload hands them over. */
async function* piecesOf(bytes: Buffer, failAfter?: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0, size = 1; offset < bytes.length; offset += size, size = (size * 7 + 13) % 100_000) {
    if (failAfter !== undefined && offset >= failAfter) throw new Error('the source broke off');
    yield new Uint8Array(bytes.subarray(offset, offset + size));
  }
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

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

    it('stores a stream in uneven pieces under the same address as put, and streams it back with its size', async () => {
      const bytes = randomBytes(700 * 1024 + 3);
      const stored = await store.putStream(piecesOf(bytes));
      expect(stored).toEqual({ sha256: sha256(bytes), bytes: bytes.length });
      expect(await store.has(stored.sha256)).toBe(true);
      expect((await store.get(stored.sha256)).equals(bytes)).toBe(true);
      const read = await store.getStream(stored.sha256);
      expect(read.bytes).toBe(bytes.length);
      expect((await readAll(read.stream)).equals(bytes)).toBe(true);
      const empty = await store.putStream(piecesOf(Buffer.alloc(0)));
      expect(empty).toEqual({ sha256: sha256(Buffer.alloc(0)), bytes: 0 });
      expect(await readAll((await store.getStream(empty.sha256)).stream)).toEqual(Buffer.alloc(0));
    });

    it('streams in bytes already stored, also twice at the same time, keeping one readable copy', async () => {
      const bytes = randomBytes(300 * 1024);
      await store.put(bytes);
      const results = await Promise.all([store.putStream(piecesOf(bytes)), store.putStream(piecesOf(bytes))]);
      expect(results).toEqual([
        { sha256: sha256(bytes), bytes: bytes.length },
        { sha256: sha256(bytes), bytes: bytes.length },
      ]);
      expect((await readAll((await store.getStream(sha256(bytes))).stream)).equals(bytes)).toBe(true);
      await store.delete(sha256(bytes));
      expect(await store.has(sha256(bytes))).toBe(false);
    });

    it('stores nothing from a stream that breaks off or whose bytes are not the expected ones', async () => {
      const bytes = randomBytes(600 * 1024);
      await expect(store.putStream(piecesOf(bytes, 400 * 1024))).rejects.toThrow('the source broke off');
      expect(await store.has(sha256(bytes))).toBe(false);
      const expected = sha256(randomBytes(8));
      const refused = store.putStream(piecesOf(bytes), { sha256: expected });
      await expect(refused).rejects.toBeInstanceOf(DomainError);
      await expect(refused).rejects.toMatchObject({
        code: BLOB_HASH_MISMATCH,
        kind: 'validation',
        details: { expected, actual: sha256(bytes) },
      });
      expect(await store.has(sha256(bytes))).toBe(false);
      expect(await store.has(expected)).toBe(false);
      expect(await store.putStream(piecesOf(bytes), { sha256: sha256(bytes) })).toEqual({
        sha256: sha256(bytes),
        bytes: bytes.length,
      });
    });

    it('answers BLOB_NOT_FOUND (404) for a stream of a hash it does not hold', async () => {
      for (const address of [sha256(randomBytes(16)), '../../etc/passwd']) {
        await expect(store.getStream(address)).rejects.toMatchObject({ code: BLOB_NOT_FOUND, kind: 'not-found' });
      }
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
