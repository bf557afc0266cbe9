import { open as openFile, type FileHandle } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import yauzl from 'yauzl';
import { DomainError } from '../domain/domain-error.js';
import { ArchiveErrors } from './unzip-safely.js';

/** Bounds on what one zip may unpack to, checked against the declared sizes and the bytes actually inflated. */
export interface ArchiveLimits {
  /** All entries read together. */
  maxTotalBytes: number;
  /** One entry. */
  maxEntryBytes: number;
  /** Entries in the archive, read or not. */
  maxEntries: number;
  /** Inflated bytes per compressed byte of one entry, checked once the entry is past RATIO_FLOOR_BYTES. */
  maxRatio: number;
}

/** Small entries may compress far better than the ratio (a JSON file of zeros), and cost nothing. */
export const RATIO_FLOOR_BYTES = 1024 * 1024;

/** One entry as the central directory lists it; `open` inflates it within the limits. */
export interface ZipEntry {
  readonly name: string;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  /** The inflated bytes, metered: a stream that errors with a 413 DomainError past a limit. */
  open(): Promise<Readable>;
}

function limitError(
  code: Exclude<keyof typeof ArchiveErrors, 'INVALID_ARCHIVE'>,
  message: string,
  details: Record<string, unknown>,
): DomainError {
  return new DomainError('too-large', ArchiveErrors[code], message, details);
}

export function invalidArchive(reason: string): DomainError {
  return DomainError.validation(ArchiveErrors.INVALID_ARCHIVE, `The archive is not a readable zip file: ${reason}.`);
}

/** Refuses (413) an entry of `bytes` inflated bytes past the ratio or entry limit. */
export function checkEntrySize(
  path: string,
  compressedSize: number,
  bytes: number,
  { maxRatio, maxEntryBytes }: ArchiveLimits,
): void {
  if (bytes > RATIO_FLOOR_BYTES && bytes > maxRatio * Math.max(compressedSize, 1)) {
    throw limitError(
      'ARCHIVE_RATIO_EXCEEDED',
      `${path} unpacks to more than ${maxRatio} times its compressed size: refused as a zip bomb.`,
      { path, maxRatio },
    );
  }
  if (bytes > maxEntryBytes)
    throw limitError('ARCHIVE_ENTRY_TOO_LARGE', `${path} unpacks to more than ${maxEntryBytes} bytes.`, {
      path,
      maxEntryBytes,
    });
}

/** A yauzl error as the DomainError a client sees. */
function asDomainError(error: unknown): unknown {
  if (error instanceof DomainError) return error;
  return invalidArchive((error as Error).message ?? String(error));
}

/**
 * Reads a zip through its central directory (ZIP64 included) from a file or from bytes, with the archive-bomb
 * limits (ARCHIVE_MAX_*) applied to what its entries really inflate to, entry by entry, as they stream: a bomb stops
 * at the first limit it passes, and nothing is held but what the caller keeps. yauzl enforces that an entry inflates
 * to exactly the size the central directory declares, so declared sizes are checked first, before inflating.
 * Refusals are DomainErrors: 400 INVALID_ARCHIVE, 413 ARCHIVE_TOO_MANY_ENTRIES / ARCHIVE_RATIO_EXCEEDED /
 * ARCHIVE_ENTRY_TOO_LARGE / ARCHIVE_TOO_LARGE.
 */
export class ZipArchive {
  /** Inflated bytes of every entry opened so far (the total limit). */
  private inflated = 0;
  private readonly passes: yauzl.ZipFile[] = [];

  private constructor(
    private readonly source: FileHandle | Buffer,
    readonly entryCount: number,
    private readonly limits: ArchiveLimits,
  ) {}

  /** Opens the zip at `path` (kept open until `close`, so removing the file meanwhile does no harm) or in `bytes`. */
  static async open(source: string | Uint8Array, limits: ArchiveLimits): Promise<ZipArchive> {
    const handle =
      typeof source === 'string'
        ? await openFile(source, 'r')
        : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    try {
      const zip = await ZipArchive.directory(handle);
      zip.close();
      if (zip.entryCount > limits.maxEntries) {
        throw limitError('ARCHIVE_TOO_MANY_ENTRIES', `The archive holds more than ${limits.maxEntries} entries.`, {
          maxEntries: limits.maxEntries,
        });
      }
      return new ZipArchive(handle, zip.entryCount, limits);
    } catch (error) {
      if (typeof source === 'string') await (handle as FileHandle).close();
      throw asDomainError(error);
    }
  }

  private static async directory(source: FileHandle | Buffer): Promise<yauzl.ZipFile> {
    const options = { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true };
    if (Buffer.isBuffer(source)) return yauzl.fromBufferPromise(source, options);
    return yauzl.fromRandomAccessReaderPromise(new FileRangeReader(source), (await source.stat()).size, options);
  }

  /**
   * Every entry, in central-directory order; each call is a new pass (the directory is read again, not kept in
   * memory). An entry can be opened during its pass or after, until `close`. Declared sizes past a limit refuse the
   * archive as the directory is read, or with `checkDeclaredSizes: false` when that entry is opened.
   */
  async *entries({ checkDeclaredSizes = true } = {}): AsyncGenerator<ZipEntry> {
    let zip: yauzl.ZipFile;
    try {
      zip = await ZipArchive.directory(this.source);
    } catch (error) {
      throw asDomainError(error);
    }
    this.passes.push(zip);
    const iterator = zip.eachEntry();
    while (true) {
      let next: IteratorResult<yauzl.Entry>;
      try {
        next = await iterator.next();
      } catch (error) {
        throw asDomainError(error);
      }
      if (next.done) return;
      const entry = next.value;
      entry.fileName = fileNameOf(entry);
      if (entry.fileName.endsWith('/')) continue;
      // yauzl holds an entry to the size it declares: a bomb that says what it is stops here, before any inflating.
      if (checkDeclaredSizes) checkEntrySize(entry.fileName, entry.compressedSize, entry.uncompressedSize, this.limits);
      yield {
        name: entry.fileName,
        compressedSize: entry.compressedSize,
        uncompressedSize: entry.uncompressedSize,
        open: () => this.openEntry(zip, entry),
      };
    }
  }

  private async openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
    checkEntrySize(entry.fileName, entry.compressedSize, entry.uncompressedSize, this.limits);
    const meter = new EntryMeter(entry.fileName, entry.compressedSize, this.limits, (bytes) => {
      this.inflated += bytes;
      if (this.inflated > this.limits.maxTotalBytes) {
        throw limitError('ARCHIVE_TOO_LARGE', `The archive unpacks to more than ${this.limits.maxTotalBytes} bytes.`, {
          maxTotalBytes: this.limits.maxTotalBytes,
        });
      }
    });
    if (this.inflated + entry.uncompressedSize > this.limits.maxTotalBytes) {
      throw limitError('ARCHIVE_TOO_LARGE', `The archive unpacks to more than ${this.limits.maxTotalBytes} bytes.`, {
        maxTotalBytes: this.limits.maxTotalBytes,
      });
    }
    let stream: Readable;
    try {
      stream = await zip.openReadStreamPromise(entry);
    } catch (error) {
      throw asDomainError(error);
    }
    stream.on('error', (error) => meter.destroy(asDomainError(error) as Error));
    // A refused or abandoned entry stops reading the archive.
    meter.on('close', () => {
      stream.unpipe(meter);
      stream.destroy();
    });
    return stream.pipe(meter);
  }

  /** Ends every pass and closes the file (entry streams still open go on to their end). */
  async close(): Promise<void> {
    for (const zip of this.passes.splice(0)) zip.close();
    if (!Buffer.isBuffer(this.source)) await this.source.close();
  }
}

const UTF8_NAME_FLAG = 0x800;
const UNICODE_PATH_EXTRA_FIELD = 0x7075;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The entry's name. macOS's "Compress" and other tools write UTF-8 names without the zip's UTF-8 flag, which yauzl
 * then reads as CP437 (`café` as `cafe╠ü`; yauzl#84): a name that is valid UTF-8 is taken as such, as real CP437 names
 * with accents practically never are. ASCII reads the same either way, so yauzl's path checks still hold.
 */
function fileNameOf(entry: yauzl.Entry): string {
  const flagged = (entry.generalPurposeBitFlag & UTF8_NAME_FLAG) !== 0;
  if (flagged || entry.extraFields.some((field) => field.id === UNICODE_PATH_EXTRA_FIELD)) return entry.fileName;
  try {
    return strictUtf8.decode(entry.fileNameRaw).replace(/\\/g, '/');
  } catch {
    return entry.fileName;
  }
}

/**
 * Reads ranges of an open file and never closes it: yauzl's own fd reader closes the fd with the ZipFile, and a
 * FileHandle's read stream closes the handle when it is destroyed.
 */
class FileRangeReader extends yauzl.RandomAccessReader {
  constructor(private readonly handle: FileHandle) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const handle = this.handle;
    let position = start;
    return new Readable({
      read(size) {
        const length = Math.min(size, end - position);
        if (length <= 0) {
          this.push(null);
          return;
        }
        handle.read(Buffer.allocUnsafe(length), 0, length, position).then(
          ({ bytesRead, buffer }) => {
            if (bytesRead === 0) {
              this.destroy(new Error('unexpected end of file'));
              return;
            }
            position += bytesRead;
            this.push(buffer.subarray(0, bytesRead));
          },
          (error: Error) => this.destroy(error),
        );
      },
    });
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (error: Error | null) => void,
  ): void {
    this.handle.read(buffer, offset, length, position).then(
      ({ bytesRead }) => callback(bytesRead < length ? new Error('unexpected end of file') : null),
      (error: Error) => callback(error),
    );
  }
}

/** Counts what one entry inflates to and errors (413) past the ratio, entry or total limit. */
class EntryMeter extends Transform {
  private bytes = 0;

  constructor(
    private readonly path: string,
    private readonly compressedSize: number,
    private readonly limits: ArchiveLimits,
    private readonly count: (bytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.byteLength;
    try {
      checkEntrySize(this.path, this.compressedSize, this.bytes, this.limits);
      this.count(chunk.byteLength);
    } catch (error) {
      callback(asDomainError(error) as Error);
      return;
    }
    callback(null, chunk);
  }
}
