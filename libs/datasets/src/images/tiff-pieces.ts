const NO_COMPRESSION = 1;
const TAG = {
  width: 256,
  height: 257,
  bitsPerSample: 258,
  compression: 259,
  samplesPerPixel: 277,
  rowsPerStrip: 278,
  tileWidth: 322,
  tileLength: 323,
} as const;

/**
 * Bytes of the largest compressed piece (strip or tile) of a TIFF's first image, decoded, or 0 when its pieces are not
 * compressed or the bytes are not a TIFF this can read. libvips decodes a compressed strip or tile whole: a 404-byte
 * JPEG-compressed TIFF of one strip declaring 7,200 × 7,200 pixels made it allocate ~330 MB at once.
 */
export function largestCompressedTiffPieceBytes(bytes: Buffer): number {
  if (bytes.length < 8) return 0;
  const order = bytes.toString('latin1', 0, 2);
  if ((order !== 'II' && order !== 'MM') || bytes.readUInt16LE(2) !== (order === 'II' ? 42 : 0x2a00)) return 0;
  const little = order === 'II';
  const u16 = (at: number) => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const directory = u32(4);
  if (directory + 2 > bytes.length) return 0;
  const count = u16(directory);
  const values = new Map<number, number>();
  for (let index = 0; index < count; index += 1) {
    const at = directory + 2 + index * 12;
    if (at + 12 > bytes.length) break;
    const type = u16(at + 2);
    const valueCount = u32(at + 4);
    if (valueCount < 1 || (type !== 3 && type !== 4)) continue;
    // The first value (enough for these tags): inline when all values fit in 4 bytes, else where the entry points.
    const size = type === 3 ? 2 : 4;
    const first = valueCount * size <= 4 ? at + 8 : u32(at + 8);
    if (first + size > bytes.length) continue;
    values.set(u16(at), type === 3 ? u16(first) : u32(first));
  }
  if ((values.get(TAG.compression) ?? NO_COMPRESSION) === NO_COMPRESSION) return 0;
  const width = values.get(TAG.width) ?? 0;
  const bitsPerPixel = (values.get(TAG.bitsPerSample) ?? 1) * (values.get(TAG.samplesPerPixel) ?? 1);
  const tileWidth = values.get(TAG.tileWidth);
  const tileLength = values.get(TAG.tileLength);
  const pieceWidth = tileWidth && tileLength ? tileWidth : width;
  // A missing RowsPerStrip means one strip of every row: the height at most, and as many as the pixel limit lets in.
  const pieceRows = tileWidth && tileLength ? tileLength : (values.get(TAG.rowsPerStrip) ?? 2 ** 32 - 1);
  const rows = Math.min(pieceRows, values.get(TAG.height) ?? 0);
  return Math.ceil((pieceWidth * rows * bitsPerPixel) / 8);
}
