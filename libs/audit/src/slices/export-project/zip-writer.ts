import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { crc32, deflateRaw } from 'node:zlib';

const deflate = promisify(deflateRaw);

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END_OF_CENTRAL_DIRECTORY = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EXTRA = 0x0001;
const VERSION = 20;
/** Version needed to extract an entry or archive with ZIP64 records. */
const VERSION_ZIP64 = 45;
/** General-purpose flag bit 11: names are UTF-8. */
const UTF8_NAMES = 0x0800;
/** 1980-01-01 00:00 in MS-DOS date and time: entry times say nothing about the project. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
/** Past these, a 32-bit size or offset and a 16-bit entry count are written as ZIP64 records instead. */
const MAX_32 = 0xffffffff;
const MAX_16 = 0xffff;
/** The central directory is written in chunks of about this size (a stream's default high-water mark is 16 KiB). */
const CENTRAL_CHUNK_BYTES = 64 * 1024;

interface CentralEntry {
  name: Buffer;
  method: 0 | 8;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
}

/** The CRC-32 of a stream's bytes, as a zip entry's header records it. */
export async function crc32Of(content: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number> {
  let crc = 0;
  for await (const chunk of content) crc = crc32(chunk, crc);
  return crc;
}

/** Resolves when `out` takes more; rejects once it is closed (a client that went away, a sink that refused). */
export function untilDrained(out: Writable): Promise<void> {
  if (out.destroyed) return Promise.reject(out.errored ?? new Error('the archive stream was closed'));
  if (!out.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const drained = () => {
      out.off('close', closed);
      resolve();
    };
    const closed = () => {
      out.off('drain', drained);
      reject(out.errored ?? new Error('the archive stream was closed'));
    };
    out.once('drain', drained);
    out.once('close', closed);
  });
}

/** A ZIP64 extended-information extra field holding `values` (8 bytes each), or nothing. */
function zip64Extra(values: number[]): Buffer {
  if (values.length === 0) return Buffer.alloc(0);
  const extra = Buffer.alloc(4 + 8 * values.length);
  extra.writeUInt16LE(ZIP64_EXTRA, 0);
  extra.writeUInt16LE(8 * values.length, 2);
  values.forEach((value, index) => extra.writeBigUInt64LE(BigInt(value), 4 + 8 * index));
  return extra;
}

/**
 * Writes a zip entry by entry into a stream, each entry whole (its sizes and CRC in its local header, no data
 * descriptors): any reader then knows where every entry ends, whatever bytes it holds (a model is itself a zip).
 * ZIP64 records where needed: entries or an archive over 4 GiB, more than 65,535 entries. yazl writes the same
 * format, but finds its next entry by scanning every entry before it: 70,000 entries took 299 s.
 */
export class ZipWriter {
  private offset = 0;
  private readonly entries: CentralEntry[] = [];

  constructor(private readonly out: Writable) {}

  /** Adds one entry: deflated (text) or stored (images and models, which do not shrink). */
  async add(name: string, bytes: Uint8Array, compression: 'deflate' | 'store'): Promise<void> {
    const data = compression === 'deflate' ? await deflate(bytes, { level: 6 }) : bytes;
    await this.writeLocalHeader({
      name: Buffer.from(name, 'utf8'),
      method: compression === 'deflate' ? 8 : 0,
      crc: crc32(bytes),
      compressedSize: data.byteLength,
      size: bytes.byteLength,
      offset: this.offset,
    });
    await this.write(data);
  }

  /**
   * Adds one stored entry whose bytes stream in, never all in memory: its size and CRC-32 go in its header
   * first, so the caller knows them beforehand (crc32Of reads a stream once for it). Rejects if the content
   * does not have `size` bytes, leaving a zip no reader accepts.
   */
  async addStream(
    name: string,
    { size, crc }: { size: number; crc: number },
    content: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<void> {
    await this.writeLocalHeader({
      name: Buffer.from(name, 'utf8'),
      method: 0,
      crc,
      compressedSize: size,
      size,
      offset: this.offset,
    });
    let written = 0;
    for await (const chunk of content) {
      written += chunk.byteLength;
      await this.write(chunk);
    }
    if (written !== size) throw new Error(`${name} streamed ${written} bytes, not the ${size} its header says`);
  }

  private async writeLocalHeader(entry: CentralEntry): Promise<void> {
    const large = entry.size >= MAX_32 || entry.compressedSize >= MAX_32;
    const extra = zip64Extra(large ? [entry.size, entry.compressedSize] : []);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(LOCAL_HEADER, 0);
    header.writeUInt16LE(large ? VERSION_ZIP64 : VERSION, 4);
    header.writeUInt16LE(UTF8_NAMES, 6);
    header.writeUInt16LE(entry.method, 8);
    header.writeUInt16LE(DOS_TIME, 10);
    header.writeUInt16LE(DOS_DATE, 12);
    header.writeUInt32LE(entry.crc, 14);
    header.writeUInt32LE(large ? MAX_32 : entry.compressedSize, 18);
    header.writeUInt32LE(large ? MAX_32 : entry.size, 22);
    header.writeUInt16LE(entry.name.length, 26);
    header.writeUInt16LE(extra.length, 28);
    this.entries.push(entry);
    await this.write(Buffer.concat([header, entry.name, extra]));
  }

  /** Writes the central directory and ends the stream. */
  async end(): Promise<void> {
    const start = this.offset;
    // Records gathered into chunks of CENTRAL_CHUNK_BYTES: three writes per entry made 65,535 entries cost seconds.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    for (const entry of this.entries) {
      // In this order, and only those that do not fit in their 32-bit field.
      const overflowing = [entry.size, entry.compressedSize, entry.offset].filter((value) => value >= MAX_32);
      const extra = zip64Extra(overflowing);
      const version = overflowing.length ? VERSION_ZIP64 : VERSION;
      const header = Buffer.alloc(46);
      header.writeUInt32LE(CENTRAL_HEADER, 0);
      header.writeUInt16LE(version, 4);
      header.writeUInt16LE(version, 6);
      header.writeUInt16LE(UTF8_NAMES, 8);
      header.writeUInt16LE(entry.method, 10);
      header.writeUInt16LE(DOS_TIME, 12);
      header.writeUInt16LE(DOS_DATE, 14);
      header.writeUInt32LE(entry.crc, 16);
      header.writeUInt32LE(Math.min(entry.compressedSize, MAX_32), 20);
      header.writeUInt32LE(Math.min(entry.size, MAX_32), 24);
      header.writeUInt16LE(entry.name.length, 28);
      header.writeUInt16LE(extra.length, 30);
      // Comment, disk number, attributes: none.
      header.writeUInt32LE(Math.min(entry.offset, MAX_32), 42);
      pending.push(header, entry.name, extra);
      pendingBytes += header.length + entry.name.length + extra.length;
      if (pendingBytes >= CENTRAL_CHUNK_BYTES) {
        await this.write(Buffer.concat(pending, pendingBytes));
        [pending, pendingBytes] = [[], 0];
      }
    }
    if (pendingBytes > 0) await this.write(Buffer.concat(pending, pendingBytes));
    const size = this.offset - start;
    const count = this.entries.length;
    if (count >= MAX_16 || size >= MAX_32 || start >= MAX_32) await this.writeZip64End(count, size, start);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
    end.writeUInt16LE(Math.min(count, MAX_16), 8);
    end.writeUInt16LE(Math.min(count, MAX_16), 10);
    end.writeUInt32LE(Math.min(size, MAX_32), 12);
    end.writeUInt32LE(Math.min(start, MAX_32), 16);
    await this.write(end);
    this.out.end();
  }

  /** The ZIP64 end-of-central-directory record and its locator, read in place of the fields that overflow. */
  private async writeZip64End(count: number, size: number, start: number): Promise<void> {
    const recordOffset = this.offset;
    const record = Buffer.alloc(56);
    record.writeUInt32LE(ZIP64_END_OF_CENTRAL_DIRECTORY, 0);
    // The size of the rest of the record.
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(VERSION_ZIP64, 12);
    record.writeUInt16LE(VERSION_ZIP64, 14);
    // This disk and the central directory's: 0.
    record.writeBigUInt64LE(BigInt(count), 24);
    record.writeBigUInt64LE(BigInt(count), 32);
    record.writeBigUInt64LE(BigInt(size), 40);
    record.writeBigUInt64LE(BigInt(start), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(ZIP64_LOCATOR, 0);
    locator.writeBigUInt64LE(BigInt(recordOffset), 8);
    locator.writeUInt32LE(1, 16);
    await this.write(record);
    await this.write(locator);
  }

  private async write(chunk: Uint8Array): Promise<void> {
    await untilDrained(this.out);
    this.out.write(chunk);
    this.offset += chunk.byteLength;
  }
}
