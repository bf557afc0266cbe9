import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from '@diyml/blobs';
import { readImagesPacked } from './training-images.js';

async function storeOf(contents: string[]) {
  const blobs = new FsBlobStore({ directory: mkdtempSync(join(tmpdir(), 'diyml-training-images-')) });
  const sha256s = await Promise.all(contents.map(async (text) => (await blobs.put(Buffer.from(text))).sha256));
  return { blobs, sha256s };
}

describe('readImagesPacked', () => {
  it('gives each distinct image its own bytes, read once, in one shared buffer', async () => {
    const { blobs, sha256s } = await storeOf(['first image', 'second', 'third one']);
    const progress: number[] = [];
    const images = await readImagesPacked(blobs, [...sha256s, sha256s[0]], (done) => progress.push(done));

    expect([...images.keys()]).toEqual(sha256s);
    expect(sha256s.map((sha256) => Buffer.from(images.get(sha256)!).toString())).toEqual([
      'first image',
      'second',
      'third one',
    ]);
    expect(new Set([...images.values()].map((view) => view.buffer)).size).toBe(1);
    expect(progress).toEqual([0, 1, 2, 3]);
  });

  it('stops between two images once its job is handed back, without reading the rest', async () => {
    const { blobs, sha256s } = await storeOf(['a', 'b', 'c', 'd']);
    const handBack = new AbortController();
    const progress: number[] = [];
    const reading = readImagesPacked(
      blobs,
      sha256s,
      (done) => {
        progress.push(done);
        if (done === 2) handBack.abort();
      },
      handBack.signal,
    );

    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    expect(progress).toEqual([0, 1, 2]);
  });
});
