import { describe, expect, it } from 'vitest';
import { unzipSync, zipSync } from 'fflate';
import { PassThrough, Writable } from 'node:stream';
import { ZipArchive } from '@diyml/core/pure';
import { inflateArchive } from '@diyml/core/pure';
import { crc32Of, ZipWriter } from './zip-writer.js';

const LIMITS = { maxTotalBytes: 1e8, maxEntryBytes: 1e8, maxEntries: 100, maxRatio: 200 };

async function written(entries: [string, Uint8Array, 'deflate' | 'store'][]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const zip = new ZipWriter(out);
  for (const [name, bytes, compression] of entries) await zip.add(name, bytes, compression);
  await zip.end();
  return Buffer.concat(chunks);
}

describe('ZipWriter', () => {
  it('writes entries that the import reads back exactly, even bytes holding zip signatures (a model is a zip)', async () => {
    const model = zipSync({ 'model.json': new TextEncoder().encode('{"a":1}') });
    // The data-descriptor and local-header signatures in the middle of a blob.
    const tricky = new Uint8Array([1, 2, 0x50, 0x4b, 0x07, 0x08, 3, 0x50, 0x4b, 0x03, 0x04, 4]);
    const text = new TextEncoder().encode('{"event":1}\n'.repeat(1000));
    const zip = await written([
      ['events/000001.jsonl', text, 'deflate'],
      ['blobs/model', model, 'store'],
      ['blobs/tricky', tricky, 'store'],
    ]);
    const read = await inflateArchive(zip, { limits: LIMITS, rules: [{ pattern: '.*' }] });
    // The entries' bytes are Buffers (views of the archive): compared as the bytes they hold.
    expect(read.entries.map(({ path, bytes }) => ({ path, bytes: bytes && new Uint8Array(bytes) }))).toEqual([
      { path: 'events/000001.jsonl', bytes: text },
      { path: 'blobs/model', bytes: model },
      { path: 'blobs/tricky', bytes: tricky },
    ]);
    expect(Object.keys(unzipSync(zip))).toEqual(['events/000001.jsonl', 'blobs/model', 'blobs/tricky']);
    expect(zip.byteLength).toBeLessThan(text.byteLength);
  });

  it('writes ZIP64 from 65,535 entries on, which a reader of the central directory reads back whole', async () => {
    // The fewest entries that need ZIP64: 0xffff in the 16-bit count sends readers to the ZIP64 record.
    const count = 65_535;
    const zip = await written(
      Array.from({ length: count }, (_, i): [string, Uint8Array, 'store'] => [
        `blobs/${i}`,
        new Uint8Array([i % 251, 7]),
        'store',
      ]),
    );
    const archive = await ZipArchive.open(zip, { ...LIMITS, maxEntries: count });
    expect(archive.entryCount).toBe(count);
    let entries = 0;
    let last: Buffer | undefined;
    for await (const entry of archive.entries()) {
      entries += 1;
      if (entry.name === `blobs/${count - 1}`) for await (const chunk of await entry.open()) last = chunk as Buffer;
    }
    expect([entries, last]).toEqual([count, Buffer.from([(count - 1) % 251, 7])]);
  }, 120_000);

  it('streams an entry in (its size and CRC known beforehand), read back exactly, and refuses one of another size', async () => {
    const blob = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 256));
    const pieces = () => [blob.subarray(0, 1000), blob.subarray(1000, 200_000), blob.subarray(200_000)];
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk));
    const zip = new ZipWriter(out);
    await zip.add('events/000001.jsonl', new TextEncoder().encode('{}\n'), 'deflate');
    await zip.addStream('blobs/large', { size: blob.length, crc: await crc32Of(pieces()) }, pieces());
    await zip.end();
    expect(unzipSync(Buffer.concat(chunks))['blobs/large']).toEqual(new Uint8Array(blob));
    const sink = new PassThrough();
    sink.resume();
    const short = new ZipWriter(sink);
    await expect(short.addStream('blobs/short', { size: blob.length + 1, crc: 0 }, pieces())).rejects.toThrow(
      'streamed 300000 bytes',
    );
  });

  it('stops with an error once the stream it writes to is closed (a client that went away)', async () => {
    const out = new Writable({ highWaterMark: 1, write: (_chunk, _encoding, callback) => setImmediate(callback) });
    const zip = new ZipWriter(out);
    await zip.add('a', new Uint8Array(10), 'store');
    out.destroy();
    await expect(zip.add('b', new Uint8Array(10), 'store')).rejects.toThrow('closed');
  });
});
