import { Inflate, Unzip, type UnzipFile } from 'fflate';
import { closeSync, fstatSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Bounds on what one zip may unpack to, checked against the bytes actually inflated (never the declared sizes). */
export interface ArchiveLimits {
  /** All kept entries together. */
  maxTotalBytes: number;
  /** One entry; an entry rule may lower it. */
  maxEntryBytes: number;
  /** Local entries in the archive, kept or not. */
  maxEntries: number;
  /** Inflated bytes per compressed byte of one entry, checked once the entry is past RATIO_FLOOR_BYTES. */
  maxRatio: number;
}

/** Small entries may compress far better than the ratio (a JSON file of zeros), and cost nothing. */
export const RATIO_FLOOR_BYTES = 1024 * 1024;

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
  /** null: over its rule's size limit and skipped (inflation stopped there), or written to `file`. */
  bytes: Uint8Array | null;
  /** The file holding the entry, for a rule with a `directory` (none when the entry was skipped). */
  file?: string;
}

export interface InflatedArchive {
  entries: InflatedEntry[];
  /** Entries no rule asked for. */
  skipped: number;
}

export type ArchiveLimitCode =
  'ARCHIVE_TOO_LARGE' | 'ARCHIVE_ENTRY_TOO_LARGE' | 'ARCHIVE_RATIO_EXCEEDED' | 'ARCHIVE_TOO_MANY_ENTRIES';

/** A limit passed while inflating: the archive is refused as a whole. */
export class ArchiveLimitError extends Error {
  constructor(
    readonly code: ArchiveLimitCode,
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ArchiveLimitError';
  }
}

/** The archive is not a zip, or is truncated or corrupt. */
export class ArchiveFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveFormatError';
  }
}

/** A zip's bytes, or the path of a file holding them (an upload written to disk, read a piece at a time). */
export type ZipSource = Uint8Array | string;

/** Compressed bytes are fed in slices this small, so one push inflates at most about 1,000 times as much (4 MiB). */
const CHUNK_BYTES = 4 * 1024;
/** A zip file is read this much at a time (then fed in CHUNK_BYTES slices). */
const FILE_READ_BYTES = 256 * 1024;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
/** The end-of-central-directory record (22 bytes) plus the longest comment. */
const END_SEARCH_BYTES = 22 + 0xffff;

/** Whether `tail`, the last bytes of a zip, holds the end-of-central-directory record. */
function hasEndOfCentralDirectory(tail: Uint8Array): boolean {
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  for (let offset = tail.byteLength - 22; offset >= Math.max(0, tail.byteLength - END_SEARCH_BYTES); offset -= 1) {
    if (view.getUint32(offset, true) === END_OF_CENTRAL_DIRECTORY) return true;
  }
  return false;
}

/** The bytes of a zip in order, with its tail first for the format check; a file is read a piece at a time. */
interface ZipReader {
  tail(): Uint8Array;
  pieces(): Generator<{ bytes: Uint8Array; last: boolean }>;
  close(): void;
}

function bytesReader(zip: Uint8Array): ZipReader {
  return {
    tail: () => zip.subarray(Math.max(0, zip.byteLength - END_SEARCH_BYTES)),
    *pieces() {
      yield { bytes: zip, last: true };
    },
    close: () => undefined,
  };
}

function fileReader(path: string): ZipReader {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  const readAt = (position: number, length: number): Uint8Array => {
    // A new buffer each time: fflate's reader keeps views of what it was given (a header cut in two, the bytes of a
    // stored entry), so a buffer read into again would change them.
    const buffer = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const read = readSync(fd, buffer, filled, length - filled, position + filled);
      if (read === 0) throw new ArchiveFormatError('the file ended before its recorded size');
      filled += read;
    }
    return buffer;
  };
  return {
    tail: () => readAt(Math.max(0, size - END_SEARCH_BYTES), Math.min(size, END_SEARCH_BYTES)),
    *pieces() {
      for (let position = 0; position < size; position += FILE_READ_BYTES) {
        const length = Math.min(FILE_READ_BYTES, size - position);
        yield { bytes: readAt(position, length), last: position + length === size };
      }
    },
    close: () => closeSync(fd),
  };
}

function concatenate(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}

interface EntryState {
  path: string;
  maxBytes: number;
  oversize: 'skip' | 'fail';
  compressed: number;
  inflated: number;
  chunks: Uint8Array[];
  done: boolean;
  /** Over its size limit with oversize 'skip': the rest of its data is passed over, not inflated. */
  dropped: boolean;
  /** Written here as it inflates (its rule's directory) rather than kept in `chunks`. */
  file?: { path: string; fd: number | null };
}

/** Writes all of `data` at the end of the open file `fd`. */
function writeAll(fd: number, data: Uint8Array): void {
  for (let written = 0; written < data.byteLength;) written += writeSync(fd, data, written, data.byteLength - written);
}

function closeFile(entry: EntryState): void {
  if (!entry.file || entry.file.fd === null) return;
  closeSync(entry.file.fd);
  entry.file.fd = null;
}

/** Closes and removes the file of an entry written to one, if it has one. */
function removeFile(entry: EntryState): void {
  if (!entry.file) return;
  closeFile(entry);
  rmSync(entry.file.path, { force: true });
  entry.file = undefined;
}

/**
 * Unzips with fflate's streaming reader, counting the bytes each entry really inflates to and stopping at the
 * first limit passed (ArchiveLimitError). A zip in a file is read a piece at a time, never whole into memory.
 * Synchronous and CPU-bound: run it on a worker thread.
 */
export function inflateArchive(source: ZipSource, request: InflationRequest): InflatedArchive {
  const reader = typeof source === 'string' ? fileReader(source) : bytesReader(source);
  const entries: EntryState[] = [];
  try {
    return inflateFrom(reader, request, entries);
  } catch (error) {
    for (const entry of entries) removeFile(entry);
    throw error;
  } finally {
    for (const entry of entries) closeFile(entry);
    reader.close();
  }
}

function inflateFrom(reader: ZipReader, request: InflationRequest, entries: EntryState[]): InflatedArchive {
  const { limits } = request;
  if (!hasEndOfCentralDirectory(reader.tail()))
    throw new ArchiveFormatError('no zip end-of-central-directory record found');
  const rules = request.rules.map((rule) => ({ ...rule, regex: new RegExp(rule.pattern, rule.flags) }));
  const omit = request.omit ? new RegExp(request.omit.pattern, request.omit.flags) : null;
  let seen = 0;
  let skipped = 0;
  let total = 0;
  let starting: EntryState | undefined;

  const accept = (entry: EntryState, data: Uint8Array) => {
    if (entry.dropped) return;
    entry.inflated += data.byteLength;
    if (entry.inflated > RATIO_FLOOR_BYTES && entry.inflated > limits.maxRatio * Math.max(entry.compressed, 1)) {
      throw new ArchiveLimitError(
        'ARCHIVE_RATIO_EXCEEDED',
        `${entry.path} unpacks to more than ${limits.maxRatio} times its compressed size: refused as a zip bomb.`,
        { path: entry.path, maxRatio: limits.maxRatio },
      );
    }
    if (entry.inflated > entry.maxBytes) {
      if (entry.oversize === 'skip') {
        total -= entry.inflated - data.byteLength;
        entry.chunks = [];
        entry.dropped = true;
        removeFile(entry);
        return;
      }
      throw new ArchiveLimitError(
        'ARCHIVE_ENTRY_TOO_LARGE',
        `${entry.path} unpacks to more than ${entry.maxBytes} bytes.`,
        {
          path: entry.path,
          maxEntryBytes: entry.maxBytes,
        },
      );
    }
    total += data.byteLength;
    if (total > limits.maxTotalBytes) {
      throw new ArchiveLimitError(
        'ARCHIVE_TOO_LARGE',
        `The archive unpacks to more than ${limits.maxTotalBytes} bytes.`,
        {
          maxTotalBytes: limits.maxTotalBytes,
        },
      );
    }
    if (!data.byteLength) return;
    if (entry.file && entry.file.fd !== null) writeAll(entry.file.fd, data);
    else entry.chunks.push(data);
  };

  /** fflate's inflater, metered: counts the compressed bytes each entry consumes and stops inflating a dropped one. */
  class MeteredInflate {
    static readonly compression = 8;
    ondata!: (error: Error | null, data: Uint8Array, final: boolean) => void;
    private readonly entry = starting!;
    private readonly inflate = new Inflate((data, final) => this.ondata(null, data, final));

    push(chunk: Uint8Array, final: boolean): void {
      this.entry.compressed += chunk.byteLength;
      if (this.entry.dropped) {
        if (final) this.ondata(null, new Uint8Array(0), true);
        return;
      }
      this.inflate.push(chunk, final);
    }
  }

  const unzip = new Unzip((file: UnzipFile) => {
    seen += 1;
    if (seen > limits.maxEntries) {
      throw new ArchiveLimitError(
        'ARCHIVE_TOO_MANY_ENTRIES',
        `The archive holds more than ${limits.maxEntries} entries.`,
        {
          maxEntries: limits.maxEntries,
        },
      );
    }
    if (omit?.test(file.name)) return passOver(file);
    const rule = rules.find((candidate) => candidate.regex.test(file.name));
    if (!rule) {
      skipped += 1;
      return passOver(file);
    }
    const entry: EntryState = {
      path: file.name,
      maxBytes: Math.min(rule.maxBytes ?? limits.maxEntryBytes, limits.maxEntryBytes),
      oversize: rule.oversize ?? 'fail',
      compressed: 0,
      inflated: 0,
      chunks: [],
      done: false,
      dropped: false,
    };
    entries.push(entry);
    if (rule.directory !== undefined) {
      // Named by its place in the archive: nothing of the entry's own path reaches the file system.
      const path = join(rule.directory, `entry-${entries.length}`);
      entry.file = { path, fd: openSync(path, 'wx') };
    }
    file.ondata = (error, data, final) => {
      if (error) throw new ArchiveFormatError(`${file.name}: ${error.message}`);
      if (file.compression === 0) entry.compressed += data.byteLength;
      accept(entry, data);
      if (final) {
        entry.done = true;
        closeFile(entry);
      }
    };
    starting = entry;
    file.start();
    starting = undefined;
  });
  unzip.register(MeteredInflate);
  /** Compression methods unzip has a decoder for (0, stored: fflate's own pass-through). */
  const decoders = new Set([0, MeteredInflate.compression]);

  /**
   * Starts an entry nobody asked for only to pass over its data, neither inflated nor kept: fflate's reader keeps all
   * the data of an entry never started, in case it is started later (a zip read from a file would pile up in memory).
   */
  function passOver(file: UnzipFile): void {
    if (!decoders.has(file.compression)) {
      unzip.register(passingOver(file.compression));
      decoders.add(file.compression);
    }
    const entry: EntryState = {
      path: file.name,
      maxBytes: 0,
      oversize: 'skip',
      compressed: 0,
      inflated: 0,
      chunks: [],
      done: false,
      dropped: true,
    };
    file.ondata = () => undefined;
    starting = entry;
    file.start();
    starting = undefined;
  }

  /**
   * A decoder for a compression method inflateArchive cannot read, met first on a skipped entry: it passes over the
   * data of skipped entries, and refuses an entry a rule asks for as fflate does (an unknown compression type).
   */
  function passingOver(compression: number) {
    return class PassingOver {
      static readonly compression = compression;
      ondata!: (error: Error | null, data: Uint8Array, final: boolean) => void;

      constructor() {
        const entry = starting!;
        if (!entry.dropped) throw new ArchiveFormatError(`${entry.path}: unknown compression type ${compression}`);
      }

      push(_chunk: Uint8Array, final: boolean): void {
        if (final) this.ondata(null, new Uint8Array(0), true);
      }
    };
  }

  try {
    for (const piece of reader.pieces()) {
      for (let offset = 0; offset < piece.bytes.byteLength; offset += CHUNK_BYTES) {
        const end = Math.min(offset + CHUNK_BYTES, piece.bytes.byteLength);
        unzip.push(piece.bytes.subarray(offset, end), piece.last && end === piece.bytes.byteLength);
      }
    }
  } catch (error) {
    if (error instanceof ArchiveLimitError || error instanceof ArchiveFormatError) throw error;
    throw new ArchiveFormatError((error as Error).message);
  }
  const unfinished = entries.find((entry) => !entry.done);
  if (unfinished) throw new ArchiveFormatError(`${unfinished.path} is truncated`);
  return {
    entries: entries.map((entry) =>
      entry.file
        ? { path: entry.path, bytes: null, file: entry.file.path }
        : { path: entry.path, bytes: entry.dropped ? null : concatenate(entry.chunks, entry.inflated) },
    ),
    skipped,
  };
}
