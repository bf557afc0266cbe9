import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZipFile } from 'yazl';
import { DomainError } from '../domain/domain-error.js';
import { buildZip, deflatedEntry, zeroBomb } from '../testing/zip-bombs.js';
import type { ArchiveLimits } from './zip-archive.js';
import { ZipArchive } from './zip-archive.js';

const MiB = 1024 * 1024;
const limits: ArchiveLimits = { maxTotalBytes: 64 * MiB, maxEntryBytes: 32 * MiB, maxEntries: 100, maxRatio: 200 };

async function yazlZip(entries: [string, Uint8Array][], options: { zip64?: boolean } = {}): Promise<Buffer> {
  const zip = new ZipFile();
  for (const [name, bytes] of entries)
    zip.addBuffer(Buffer.from(bytes), name, { forceZip64Format: options.zip64 ?? false, compress: false });
  zip.end({ forceZip64Format: options.zip64 ?? false, comment: '' });
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function contents(zip: ZipArchive): Promise<Record<string, Buffer>> {
  const read: Record<string, Buffer> = {};
  for await (const entry of zip.entries()) {
    const chunks: Buffer[] = [];
    for await (const chunk of await entry.open()) chunks.push(chunk as Buffer);
    read[entry.name] = Buffer.concat(chunks);
  }
  return read;
}

/** The DomainError reading the whole archive ends with. */
async function refusal(bytes: Uint8Array, given: ArchiveLimits = limits): Promise<DomainError> {
  try {
    const zip = await ZipArchive.open(bytes, given);
    try {
      await contents(zip);
    } finally {
      await zip.close();
    }
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('the archive was read whole');
}

describe('ZipArchive: a zip read through its central directory, entry by entry, within the archive limits', () => {
  it('reads the entries of a file, any number of times, even bytes holding zip signatures (a model is a zip)', async () => {
    const model = zipSync({ 'model.json': new TextEncoder().encode('{"a":1}') });
    const tricky = new Uint8Array([1, 2, 0x50, 0x4b, 0x07, 0x08, 3, 0x50, 0x4b, 0x03, 0x04, 4]);
    const folder = mkdtempSync(join(tmpdir(), 'zip-archive-'));
    try {
      const path = join(folder, 'a.zip');
      writeFileSync(path, zipSync({ 'blobs/model': model, 'blobs/tricky': tricky, 'folder/': new Uint8Array(0) }));
      const zip = await ZipArchive.open(path, limits);
      // The file may go while the archive is open (an import holds it; leftovers are swept by age).
      rmSync(path);
      const expected = { 'blobs/model': Buffer.from(model), 'blobs/tricky': Buffer.from(tricky) };
      expect(await contents(zip)).toEqual(expected);
      expect(await contents(zip)).toEqual(expected);
      await zip.close();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('reads ZIP64 records (forced by yazl on small entries; the export writes them past 4 GiB or 65,535 entries)', async () => {
    const bytes = randomBytes(1000);
    const zip = await ZipArchive.open(
      await yazlZip(
        [
          ['a', bytes],
          ['b', new Uint8Array([7])],
        ],
        { zip64: true },
      ),
      limits,
    );
    expect(await contents(zip)).toEqual({ a: bytes, b: Buffer.from([7]) });
  });

  it("reads names as written: UTF-8 without the zip's UTF-8 flag (macOS), CP437 (old Windows tools)", async () => {
    const macName = 'cafe\u0301/1.png';
    const zip = buildZip([
      { ...deflatedEntry(macName, new Uint8Array([1])), unflaggedName: Buffer.from(macName, 'utf8') },
      // 'Ärger/2.png' in CP437, where Ä is 0x8E: not valid UTF-8.
      {
        ...deflatedEntry('Ärger/2.png', new Uint8Array([2])),
        unflaggedName: Buffer.from([0x8e, ...Buffer.from('rger/2.png')]),
      },
    ]);
    const archive = await ZipArchive.open(zip, limits);
    try {
      expect(Object.keys(await contents(archive))).toEqual([macName, 'Ärger/2.png']);
    } finally {
      await archive.close();
    }
  });

  it('refuses more entries than ARCHIVE_MAX_ENTRIES from the central directory, before inflating anything', async () => {
    const files = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`f${i}.txt`, new Uint8Array([i])]));
    const error = await refusal(zipSync(files));
    expect([error.kind, error.code, error.details]).toEqual([
      'too-large',
      'ARCHIVE_TOO_MANY_ENTRIES',
      { maxEntries: 100 },
    ]);
  });

  it('stops a 1 GiB bomb in a 1 MiB zip on its ratio, whether its headers are honest or lie', async () => {
    const honest = await refusal(buildZip([zeroBomb('events/000001.jsonl', 1024 * MiB)]), {
      ...limits,
      maxEntryBytes: 2048 * MiB,
      maxTotalBytes: 2048 * MiB,
    });
    expect([honest.code, honest.details]).toEqual([
      'ARCHIVE_RATIO_EXCEEDED',
      { path: 'events/000001.jsonl', maxRatio: 200 },
    ]);
    // Headers that say 1000 bytes: the entry is cut at the size it declares, and the zip refused as invalid.
    const lying = await refusal(buildZip([zeroBomb('events/000001.jsonl', 1024 * MiB, 1000)]));
    expect([lying.kind, lying.code]).toEqual(['validation', 'INVALID_ARCHIVE']);
  });

  it('stops an entry past ARCHIVE_MAX_ENTRY_BYTES and the archive past ARCHIVE_MAX_INFLATED_BYTES', async () => {
    const tolerant = { ...limits, maxTotalBytes: 8 * MiB, maxEntryBytes: 4 * MiB, maxRatio: 1_000_000 };
    const entry = await refusal(buildZip([zeroBomb('big.bin', 5 * MiB)]), tolerant);
    expect([entry.code, entry.details]).toEqual([
      'ARCHIVE_ENTRY_TOO_LARGE',
      { path: 'big.bin', maxEntryBytes: 4 * MiB },
    ]);
    const total = await refusal(
      buildZip([zeroBomb('a.bin', 3 * MiB), zeroBomb('b.bin', 3 * MiB), zeroBomb('c.bin', 3 * MiB)]),
      tolerant,
    );
    expect([total.code, total.details]).toEqual(['ARCHIVE_TOO_LARGE', { maxTotalBytes: 8 * MiB }]);
  });

  it('refuses bytes that are not a zip, a truncated zip and a damaged central directory as INVALID_ARCHIVE', async () => {
    expect((await refusal(new TextEncoder().encode('not a zip at all'))).code).toBe('INVALID_ARCHIVE');
    const zip = zipSync({ 'a.bin': new Uint8Array(randomBytes(100_000)), 'b.bin': new Uint8Array(randomBytes(10)) });
    expect((await refusal(zip.subarray(0, zip.byteLength - 100))).code).toBe('INVALID_ARCHIVE');
    const damaged = new Uint8Array(zip);
    const directory = Buffer.from(damaged).lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    damaged[directory + 1] = 0;
    expect((await refusal(damaged)).code).toBe('INVALID_ARCHIVE');
    const badData = buildZip([
      { ...deflatedEntry('a.json', new TextEncoder().encode('{"a":1}')), data: new Uint8Array([0xff, 0xff, 0xff]) },
    ]);
    expect((await refusal(badData)).code).toBe('INVALID_ARCHIVE');
  });
});
