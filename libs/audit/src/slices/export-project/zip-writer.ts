import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { crc32, deflateRaw } from 'node:zlib';

const deflate = promisify(deflateRaw);

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const VERSION = 20;
/** General-purpose flag bit 11: names are UTF-8. */
const UTF8_NAMES = 0x0800;
/** 1980-01-01 00:00 in MS-DOS date and time: entry times say nothing about the project. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
/** Without ZIP64, offsets and sizes are 32-bit and entries are counted in 16 bits. */
const MAX_OFFSET = 0xffffffff;
const MAX_ENTRIES = 0xffff;

interface CentralEntry {
  name: Buffer;
  method: 0 | 8;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
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

/**
 * Writes a zip entry by entry into a stream, each entry whole (its sizes and CRC in its local header, no data
 * descriptors): a streaming reader then knows where every entry ends, whatever bytes it holds. fflate's streaming
 * Zip writes data descriptors, which fflate's streaming Unzip finds by scanning for signatures, so a blob that
 * holds one (a model is itself a zip) would be cut short. No ZIP64: at most 4 GiB and 65,535 entries.
 */
export class ZipWriter {
  private offset = 0;
  private readonly entries: CentralEntry[] = [];

  constructor(private readonly out: Writable) {}

  /** Adds one entry: deflated (text) or stored (images and models, which do not shrink). */
  async add(name: string, bytes: Uint8Array, compression: 'deflate' | 'store'): Promise<void> {
    const data = compression === 'deflate' ? await deflate(bytes, { level: 6 }) : bytes;
    const entry: CentralEntry = {
      name: Buffer.from(name, 'utf8'),
      method: compression === 'deflate' ? 8 : 0,
      crc: crc32(bytes),
      compressedSize: data.byteLength,
      size: bytes.byteLength,
      offset: this.offset,
    };
    if (this.entries.length >= MAX_ENTRIES || this.offset + 30 + entry.name.length + data.byteLength > MAX_OFFSET) {
      throw new Error('the archive would pass 4 GiB or 65,535 entries, more than a zip without ZIP64 holds');
    }
    const header = Buffer.alloc(30);
    header.writeUInt32LE(LOCAL_HEADER, 0);
    header.writeUInt16LE(VERSION, 4);
    header.writeUInt16LE(UTF8_NAMES, 6);
    header.writeUInt16LE(entry.method, 8);
    header.writeUInt16LE(DOS_TIME, 10);
    header.writeUInt16LE(DOS_DATE, 12);
    header.writeUInt32LE(entry.crc, 14);
    header.writeUInt32LE(entry.compressedSize, 18);
    header.writeUInt32LE(entry.size, 22);
    header.writeUInt16LE(entry.name.length, 26);
    header.writeUInt16LE(0, 28);
    this.entries.push(entry);
    await this.write(header);
    await this.write(entry.name);
    await this.write(data);
  }

  /** Writes the central directory and ends the stream. */
  async end(): Promise<void> {
    const start = this.offset;
    for (const entry of this.entries) {
      const header = Buffer.alloc(46);
      header.writeUInt32LE(CENTRAL_HEADER, 0);
      header.writeUInt16LE(VERSION, 4);
      header.writeUInt16LE(VERSION, 6);
      header.writeUInt16LE(UTF8_NAMES, 8);
      header.writeUInt16LE(entry.method, 10);
      header.writeUInt16LE(DOS_TIME, 12);
      header.writeUInt16LE(DOS_DATE, 14);
      header.writeUInt32LE(entry.crc, 16);
      header.writeUInt32LE(entry.compressedSize, 20);
      header.writeUInt32LE(entry.size, 24);
      header.writeUInt16LE(entry.name.length, 28);
      // Extra field, comment, disk number, attributes: none.
      header.writeUInt32LE(entry.offset, 42);
      await this.write(header);
      await this.write(entry.name);
    }
    const size = this.offset - start;
    if (start + size > MAX_OFFSET) throw new Error('the archive would pass 4 GiB, more than a zip without ZIP64 holds');
    const end = Buffer.alloc(22);
    end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(size, 12);
    end.writeUInt32LE(start, 16);
    await this.write(end);
    this.out.end();
  }

  private async write(chunk: Uint8Array): Promise<void> {
    await untilDrained(this.out);
    this.out.write(chunk);
    this.offset += chunk.byteLength;
  }
}
