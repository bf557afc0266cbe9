import { afterAll, describe, expect, it } from 'vitest';
import { Zip, ZipDeflate, ZipPassThrough, zipSync } from 'fflate';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildZip, deflatedEntry, zeroBomb } from '../testing/zip-bombs.js';
import { DomainError } from '../domain/domain-error.js';
import { inflateArchive, type InflationRequest } from './archive-inflation.js';
import { archiveThreads, unzipSafely } from './unzip-safely.js';
import type { ArchiveLimits } from './zip-archive.js';

const MiB = 1024 * 1024;
const limits: ArchiveLimits = { maxTotalBytes: 64 * MiB, maxEntryBytes: 32 * MiB, maxEntries: 100, maxRatio: 200 };
const everything: InflationRequest = { limits, rules: [{ pattern: '' }] };

/** The DomainError inflating ends with. */
async function refusal(inflating: Promise<unknown>): Promise<DomainError> {
  try {
    await inflating;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('the archive was inflated whole');
}

describe('inflating an archive with limits on the real bytes', () => {
  it('inflates the entries the rules ask for, counts the others and passes over omitted ones', async () => {
    const zip = zipSync({
      'cats/1.png': new Uint8Array([1, 2, 3]),
      'notes.txt': new TextEncoder().encode('hello'),
      '__MACOSX/._1.png': new Uint8Array([9]),
      'empty.json': new Uint8Array(0),
    });
    const archive = await inflateArchive(zip, {
      limits,
      rules: [{ pattern: '\\.png$' }, { pattern: '\\.json$' }],
      omit: { pattern: '(^|/)__MACOSX/' },
    });
    expect(archive.entries.map((entry) => [entry.path, [...(entry.bytes ?? [])]])).toEqual([
      ['cats/1.png', [1, 2, 3]],
      ['empty.json', []],
    ]);
    expect(archive.skipped).toBe(1);
  });

  it('stops a 1 GiB bomb in a 1 MiB zip on its compression ratio, and one whose headers lie at the size they declare', async () => {
    const generous = { ...everything, limits: { ...limits, maxEntryBytes: 2048 * MiB, maxTotalBytes: 2048 * MiB } };
    const honest = buildZip([zeroBomb('weights.bin', 1024 * MiB)]);
    expect(honest.byteLength).toBeLessThan(2 * MiB);
    const error = await refusal(inflateArchive(honest, generous));
    expect([error.kind, error.code, error.details]).toEqual([
      'too-large',
      'ARCHIVE_RATIO_EXCEEDED',
      { path: 'weights.bin', maxRatio: 200 },
    ]);
    const lying = await refusal(inflateArchive(buildZip([zeroBomb('weights.bin', 1024 * MiB, 1000)]), generous));
    expect([lying.kind, lying.code]).toEqual(['validation', 'INVALID_ARCHIVE']);
  });

  it('reads whole the entries of a zip written as a stream (sizes after the data) whose bytes hold zip signatures', async () => {
    // A photo's bytes may hold any four bytes: here the data-descriptor and central-directory signatures.
    const photo = new Uint8Array(randomBytes(200_000));
    photo.set([0x50, 0x4b, 0x07, 0x08], 50_000);
    photo.set([0x50, 0x4b, 0x01, 0x02], 120_000);
    const chunks: Uint8Array[] = [];
    const zip = new Zip((error, chunk) => {
      if (error) throw error;
      chunks.push(chunk);
    });
    for (const [name, Entry] of [
      ['stored.png', ZipPassThrough],
      ['deflated.png', ZipDeflate],
    ] as const) {
      const entry = new Entry(name);
      zip.add(entry);
      entry.push(photo, true);
    }
    zip.end();
    const archive = await inflateArchive(Buffer.concat(chunks), everything);
    expect(archive.entries.map((entry) => [entry.path, Buffer.from(entry.bytes!).equals(photo)])).toEqual([
      ['stored.png', true],
      ['deflated.png', true],
    ]);
  });

  it('reads the paths of a zip made on Windows, whose folders are separated by backslashes, with slashes', async () => {
    const zip = buildZip([deflatedEntry('cats\\1.png', new Uint8Array([1]))]);
    const archive = await inflateArchive(zip, { limits, rules: [{ pattern: '^cats/[^/]+\\.png$' }] });
    expect(archive.entries.map((entry) => entry.path)).toEqual(['cats/1.png']);
  });

  it('stops an entry at the entry limit and the archive at the total limit', async () => {
    const tolerant = { ...limits, maxTotalBytes: 8 * MiB, maxEntryBytes: 4 * MiB, maxRatio: 1_000_000 };
    const big = buildZip([zeroBomb('big.bin', 5 * MiB)]);
    expect((await refusal(inflateArchive(big, { ...everything, limits: tolerant }))).code).toBe(
      'ARCHIVE_ENTRY_TOO_LARGE',
    );
    const many = buildZip([zeroBomb('a.bin', 3 * MiB), zeroBomb('b.bin', 3 * MiB), zeroBomb('c.bin', 3 * MiB)]);
    expect((await refusal(inflateArchive(many, { ...everything, limits: tolerant }))).code).toBe('ARCHIVE_TOO_LARGE');
  });

  it('keeps an entry over its rule limit as null when the rule says skip, and goes on', async () => {
    const zip = buildZip([zeroBomb('huge.png', 4 * MiB), deflatedEntry('small.png', new Uint8Array([7, 7]))]);
    const archive = await inflateArchive(zip, {
      limits: { ...limits, maxRatio: 1_000_000 },
      rules: [{ pattern: '\\.png$', maxBytes: MiB, oversize: 'skip' }],
    });
    expect(archive.entries).toEqual([
      { path: 'huge.png', bytes: null },
      { path: 'small.png', bytes: new Uint8Array([7, 7]) },
    ]);
  });

  it('refuses more entries than allowed, skipped ones included', async () => {
    const files = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`f${i}.txt`, new Uint8Array([i])]));
    expect((await refusal(inflateArchive(zipSync(files), { limits, rules: [] }))).code).toBe(
      'ARCHIVE_TOO_MANY_ENTRIES',
    );
  });

  it('refuses bytes that are not a zip, and a truncated one', async () => {
    expect((await refusal(inflateArchive(new TextEncoder().encode('not a zip at all'), everything))).code).toBe(
      'INVALID_ARCHIVE',
    );
    const zip = zipSync({ 'a.bin': new Uint8Array(randomBytes(100_000)) });
    const truncated = new Uint8Array([...zip.subarray(0, 2000), ...zip.subarray(zip.byteLength - 22)]);
    expect((await refusal(inflateArchive(truncated, everything))).code).toBe('INVALID_ARCHIVE');
  });

  describe('from a file, read a piece at a time', () => {
    const folder = mkdtempSync(join(tmpdir(), 'diyml-inflation-'));
    const fileOf = (name: string, bytes: Uint8Array) => {
      const path = join(folder, name);
      writeFileSync(path, bytes);
      return path;
    };
    afterAll(() => rmSync(folder, { recursive: true, force: true }));

    it('unpacks the same entries as from bytes, stored and deflated ones crossing the pieces it reads', async () => {
      const stored = randomBytes(700_000);
      const zip = zipSync({
        'a/stored.png': [new Uint8Array(stored), { level: 0 }],
        'b/deflated.png': new Uint8Array(300_000).fill(3),
        'notes.txt': new TextEncoder().encode('hello'),
      });
      const request: InflationRequest = { limits, rules: [{ pattern: '\\.png$' }] };
      const fromFile = await inflateArchive(fileOf('mixed.zip', zip), request);
      const fromBytes = await inflateArchive(zip, request);
      expect(fromFile.entries.map((entry) => entry.path)).toEqual(['a/stored.png', 'b/deflated.png']);
      fromFile.entries.forEach((entry, index) =>
        expect(Buffer.from(entry.bytes!).equals(Buffer.from(fromBytes.entries[index].bytes!))).toBe(true),
      );
      expect(Buffer.from(fromFile.entries[0].bytes!).equals(stored)).toBe(true);
      expect(fromFile.skipped).toBe(1);
    });

    it('reads hundreds of small stored and deflated entries whose headers fall across the pieces it reads', async () => {
      const files = Object.fromEntries(
        Array.from({ length: 300 }, (_, i) => [
          `f${i}.bin`,
          [new Uint8Array(randomBytes(3000 + i * 7)), { level: i % 2 ? 0 : 6 }] as [Uint8Array, { level: 0 | 6 }],
        ]),
      );
      const zip = zipSync(files);
      const request: InflationRequest = { limits: { ...limits, maxEntries: 1000 }, rules: [{ pattern: '' }] };
      const fromFile = await inflateArchive(fileOf('many.zip', zip), request);
      expect(fromFile.entries).toHaveLength(300);
      fromFile.entries.forEach((entry, i) => {
        expect(entry.path).toBe(`f${i}.bin`);
        expect(Buffer.from(entry.bytes!).equals(files[`f${i}.bin`][0])).toBe(true);
      });
    });

    it('writes the entries of a rule with a directory to files as they inflate, and leaves no file when it fails', async () => {
      const image = new Uint8Array(randomBytes(300_000));
      const zip = fileOf(
        'to-files.zip',
        buildZip([
          deflatedEntry('cats/1.png', image),
          zeroBomb('huge.png', 4 * MiB),
          deflatedEntry('coco.json', new TextEncoder().encode('{}')),
        ]),
      );
      const directory = mkdtempSync(join(folder, 'entries-'));
      const archive = await inflateArchive(zip, {
        limits: { ...limits, maxRatio: 1_000_000 },
        rules: [{ pattern: '\\.png$', maxBytes: MiB, oversize: 'skip', directory }, { pattern: '\\.json$' }],
      });
      expect(archive.entries).toEqual([
        { path: 'cats/1.png', bytes: null, file: join(directory, 'entry-1') },
        { path: 'huge.png', bytes: null },
        { path: 'coco.json', bytes: new TextEncoder().encode('{}') },
      ]);
      expect(readFileSync(join(directory, 'entry-1')).equals(image)).toBe(true);
      // The skipped entry's partial file is gone.
      expect(readdirSync(directory)).toEqual(['entry-1']);

      const failing = fileOf('failing.zip', buildZip([deflatedEntry('1.png', image), zeroBomb('2.png', 64 * MiB)]));
      const empty = mkdtempSync(join(folder, 'entries-'));
      expect(
        (await refusal(inflateArchive(failing, { limits, rules: [{ pattern: '\\.png$', directory: empty }] }))).code,
      ).toBe('ARCHIVE_RATIO_EXCEEDED');
      expect(readdirSync(empty)).toEqual([]);
    });

    it('stops a bomb at its limit, and refuses a file that is not a zip or is truncated', async () => {
      const bomb = fileOf('bomb.zip', buildZip([zeroBomb('bomb.bin', 64 * MiB)]));
      expect((await refusal(inflateArchive(bomb, everything))).code).toBe('ARCHIVE_RATIO_EXCEEDED');
      await expect(unzipSafely(bomb, everything)).rejects.toMatchObject({ code: 'ARCHIVE_RATIO_EXCEEDED' });
      expect(
        (await refusal(inflateArchive(fileOf('text.zip', new TextEncoder().encode('not a zip')), everything))).code,
      ).toBe('INVALID_ARCHIVE');
      const zip = zipSync({ 'a.bin': new Uint8Array(randomBytes(600_000)) });
      const truncated = new Uint8Array([...zip.subarray(0, 300_000), ...zip.subarray(zip.byteLength - 22)]);
      expect((await refusal(inflateArchive(fileOf('truncated.zip', truncated), everything))).code).toBe(
        'INVALID_ARCHIVE',
      );
    });
  });

  it('runs on a worker thread, kept for the next archive unless it stopped a bomb, and answers limits as 413 domain errors', async () => {
    const startedBefore = archiveThreads.started;
    const zip = buildZip([zeroBomb('bomb.bin', 64 * MiB)]);
    await expect(unzipSafely(zip, everything)).rejects.toMatchObject({
      kind: 'too-large',
      code: 'ARCHIVE_RATIO_EXCEEDED',
    });
    const archive = await unzipSafely(
      zipSync({ 'a.txt': new Uint8Array([1]), 'b.txt': new Uint8Array([2]) }),
      everything,
    );
    expect(archive.entries.map((entry) => [entry.path, [...entry.bytes!]])).toEqual([
      ['a.txt', [1]],
      ['b.txt', [2]],
    ]);
    await expect(unzipSafely(new Uint8Array([1, 2, 3]), everything)).rejects.toMatchObject({
      kind: 'validation',
      code: 'INVALID_ARCHIVE',
    });
    // The bomb's thread was closed with what it inflated; the next one served the other two.
    expect(archiveThreads.started).toBe(startedBefore + 2);
  });

  it('moves stored (uncompressed) entries back from the worker thread, small and large, as zip tools store photos', async () => {
    const large = randomBytes(3 * MiB);
    const zip = zipSync(
      { 'a.jpg': new Uint8Array([1, 2, 3]), 'b.jpg': new Uint8Array([4, 5]), 'c.jpg': large },
      { level: 0 },
    );
    const folder = mkdtempSync(join(tmpdir(), 'diyml-stored-'));
    const path = join(folder, 'photos.zip');
    writeFileSync(path, zip);
    const fromFile = await unzipSafely(path, everything).finally(() => rmSync(folder, { recursive: true }));
    const archive = await unzipSafely(zip, everything);
    expect(fromFile.entries.map((entry) => [...entry.bytes!.subarray(0, 3)])).toEqual([
      [1, 2, 3],
      [4, 5],
      [...large.subarray(0, 3)],
    ]);
    expect(archive.entries.map((entry) => [entry.path, entry.bytes!.byteLength])).toEqual([
      ['a.jpg', 3],
      ['b.jpg', 2],
      ['c.jpg', large.byteLength],
    ]);
    expect([...archive.entries[1].bytes!]).toEqual([4, 5]);
    expect(Buffer.from(archive.entries[2].bytes!).equals(large)).toBe(true);
  });

  afterAll(() => archiveThreads.closeIdle());
});
