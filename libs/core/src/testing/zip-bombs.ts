import { constants, crc32, deflateRawSync } from 'node:zlib';

export interface DeflatedEntry {
  name: string;
  /** Raw deflate data (compression method 8), or the bytes themselves with `stored`. */
  data: Uint8Array;
  crc: number;
  size: number;
  stored?: boolean;
  /** The uncompressed size written in the headers, when it should lie. */
  declaredSize?: number;
  /** The name's bytes as written, without the UTF-8 flag (macOS's UTF-8, or CP437), instead of flagged UTF-8. */
  unflaggedName?: Uint8Array;
}

const MiB = 1024 * 1024;

/**
 * A deflate stream of `inflatedBytes` zero bytes (a multiple of 1 MiB), built without holding them: the
 * deflate of one MiB of zeros ended by a full flush is self-contained and byte-aligned, so it is repeated.
 * 1 GiB takes about 1 MiB.
 */
export function zeroBomb(name: string, inflatedBytes: number, declaredSize?: number): DeflatedEntry {
  const zeros = Buffer.alloc(MiB);
  const segment = deflateRawSync(zeros, { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  const count = Math.ceil(inflatedBytes / MiB);
  const end = deflateRawSync(Buffer.alloc(0));
  const data = Buffer.concat([...Array.from({ length: count }, () => segment), end]);
  let crc = 0;
  for (let i = 0; i < count; i += 1) crc = crc32(zeros, crc);
  return { name, data, crc, size: count * MiB, declaredSize };
}

/** An ordinary deflated entry. */
export function deflatedEntry(name: string, bytes: Uint8Array, declaredSize?: number): DeflatedEntry {
  return { name, data: deflateRawSync(bytes, { level: 9 }), crc: crc32(bytes), size: bytes.byteLength, declaredSize };
}

/** A zip (local headers, data, central directory) of the entries exactly as given, lies included. */
export function buildZip(entries: readonly DeflatedEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = entry.unflaggedName ? Buffer.from(entry.unflaggedName) : Buffer.from(entry.name, 'utf8');
    const flags = entry.unflaggedName ? 0 : 0x0800;
    const declared = entry.declaredSize ?? entry.size;
    const method = entry.stored ? 0 : 8;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(entry.crc >>> 0, 14);
    local.writeUInt32LE(entry.data.byteLength, 18);
    local.writeUInt32LE(declared >>> 0, 22);
    local.writeUInt16LE(name.byteLength, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(entry.crc >>> 0, 16);
    central.writeUInt32LE(entry.data.byteLength, 20);
    central.writeUInt32LE(declared >>> 0, 24);
    central.writeUInt16LE(name.byteLength, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, Buffer.from(entry.data));
    centrals.push(central, name);
    offset += local.byteLength + name.byteLength + entry.data.byteLength;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.byteLength, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
