import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type ArchiveLimits, checkEntrySize, ZipArchive } from './zip-archive.js';

/**
 * Which entries to inflate. The first rule whose pattern matches an entry's path applies; an entry no rule
 * matches is skipped (counted), one matching `omit` is skipped silently (folders, `__MACOSX/`, dot files).
 * Patterns are regular-expression sources, so a request can cross to a worker thread.
 */
export interface EntryRule {
  pattern: string;
  flags?: string;
  /** Largest entry for this rule (below the archive's maxEntryBytes). */
  maxBytes?: number;
  /** Over maxBytes: 'skip' keeps the entry with null bytes (reported per item), 'fail' stops the whole archive. */
  oversize?: 'skip' | 'fail';
  /**
   * A folder to write each entry to as it inflates, a new file per entry (the entry's `file`), instead of keeping it
   * in memory: an archive of many large entries is then held a chunk at a time. The files are the caller's to remove;
   * an archive that fails leaves none.
   */
  directory?: string;
}

export interface InflationRequest {
  limits: ArchiveLimits;
  rules: EntryRule[];
  omit?: { pattern: string; flags?: string };
}

export interface InflatedEntry {
  path: string;
  /** null: over its rule's size limit and skipped, or written to `file`. */
  bytes: Uint8Array | null;
  /** The file holding the entry, for a rule with a `directory` (none when the entry was skipped). */
  file?: string;
}

export interface InflatedArchive {
  entries: InflatedEntry[];
  /** Entries no rule asked for. */
  skipped: number;
}

/** A zip's bytes, or the path of a file holding them (an upload written to disk, read a piece at a time). */
export type ZipSource = Uint8Array | string;

async function bytesOf(entry: { open(): Promise<AsyncIterable<Buffer>> }): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of await entry.open()) chunks.push(chunk);
  const joined = Buffer.concat(chunks);
  return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength);
}

/**
 * Unzips the entries the rules ask for, through the zip's central directory (ZipArchive: ZIP64, the ARCHIVE_MAX_*
 * limits on declared and really inflated bytes, an entry held to the size it declares). Reading the local entries
 * in stream order instead would have to find where an entry with a trailing data descriptor ends by scanning its
 * data for a signature, and cut a photo whose bytes happen to hold one. Refusals are DomainErrors: 413
 * ARCHIVE_TOO_MANY_ENTRIES / ARCHIVE_RATIO_EXCEEDED / ARCHIVE_ENTRY_TOO_LARGE / ARCHIVE_TOO_LARGE, 400 INVALID_ARCHIVE.
 */
export async function inflateArchive(source: ZipSource, request: InflationRequest): Promise<InflatedArchive> {
  const { limits } = request;
  const rules = request.rules.map((rule) => ({ ...rule, regex: new RegExp(rule.pattern, rule.flags) }));
  const omit = request.omit ? new RegExp(request.omit.pattern, request.omit.flags) : null;
  const zip = await ZipArchive.open(source, limits);
  const entries: InflatedEntry[] = [];
  let asked = 0;
  let skipped = 0;
  try {
    // Declared sizes are checked on the entries read, when they are opened: one nobody asked for costs nothing.
    for await (const entry of zip.entries({ checkDeclaredSizes: false })) {
      if (omit?.test(entry.name)) continue;
      const rule = rules.find((candidate) => candidate.regex.test(entry.name));
      if (!rule) {
        skipped += 1;
        continue;
      }
      asked += 1;
      const maxBytes = Math.min(rule.maxBytes ?? limits.maxEntryBytes, limits.maxEntryBytes);
      if (entry.uncompressedSize > maxBytes && rule.oversize === 'skip') {
        entries.push({ path: entry.name, bytes: null });
        continue;
      }
      checkEntrySize(entry.name, entry.compressedSize, entry.uncompressedSize, { ...limits, maxEntryBytes: maxBytes });
      if (rule.directory === undefined) {
        entries.push({ path: entry.name, bytes: await bytesOf(entry) });
        continue;
      }
      // Named by its place in the archive: nothing of the entry's own path reaches the file system.
      const file = join(rule.directory, `entry-${asked}`);
      entries.push({ path: entry.name, bytes: null, file });
      await pipeline(await entry.open(), createWriteStream(file, { flags: 'wx' }));
    }
    return { entries, skipped };
  } catch (error) {
    for (const entry of entries) if (entry.file) rmSync(entry.file, { force: true });
    throw error;
  } finally {
    await zip.close();
  }
}
