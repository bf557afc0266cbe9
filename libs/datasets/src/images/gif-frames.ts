/** Entries an LZW dictionary of GIF holds at most (12-bit codes): no code stands for a longer run of pixels. */
const LZW_MAX_CODES = 4096;
const EXTENSION = 0x21;
const IMAGE_DESCRIPTOR = 0x2c;
const HAS_COLOUR_TABLE = 0x80;

/**
 * The most pixels a GIF's first frame (the one decoded) can paint, from its block structure alone: the frame's
 * width × height, or fewer when its compressed data is too short to hold them. null when the bytes are not a GIF
 * with a frame this can find (the decoder has the last word then).
 *
 * libvips decodes a GIF onto the whole canvas its header declares, 4 bytes a pixel, whatever the frame fills: a
 * 43-byte GIF declaring 7,200 × 7,200 pixels took ~230 MB to decode. The pixels it can really hold are bounded by its
 * LZW data: the k-th code after a clear stands for at most k pixels (each new dictionary entry is one pixel longer
 * than an existing one) and never more than the dictionary's 4,096 entries.
 */
export function gifFirstFramePaintablePixels(bytes: Buffer): number | null {
  const signature = bytes.toString('latin1', 0, 6);
  if ((signature !== 'GIF87a' && signature !== 'GIF89a') || bytes.length < 13) return null;
  let at = 13 + colourTableBytes(bytes[10]);
  while (at < bytes.length) {
    const block = bytes[at];
    if (block === EXTENSION) {
      at = subBlocksEnd(bytes, at + 2).end;
    } else if (block === IMAGE_DESCRIPTOR) {
      if (at + 11 > bytes.length) return 0;
      const frameArea = bytes.readUInt16LE(at + 5) * bytes.readUInt16LE(at + 7);
      at += 10 + colourTableBytes(bytes[at + 9]);
      if (at >= bytes.length) return 0;
      const minimumCodeSize = bytes[at];
      const { dataBytes } = subBlocksEnd(bytes, at + 1);
      return Math.min(frameArea, lzwPixelsAtMost(dataBytes, minimumCodeSize));
    } else {
      // The trailer, or a block no GIF has: no frame.
      return null;
    }
  }
  return null;
}

/** Bytes of the colour table a GIF's packed field declares (its top bit set), else 0. */
function colourTableBytes(packed: number | undefined): number {
  return packed !== undefined && packed & HAS_COLOUR_TABLE ? 3 * 2 ** ((packed & 0x07) + 1) : 0;
}

/** Where a chain of data sub-blocks (a length byte, then that many bytes; 0 ends it) starts ends, and its data bytes. */
function subBlocksEnd(bytes: Buffer, start: number): { end: number; dataBytes: number } {
  let at = start;
  let dataBytes = 0;
  while (at < bytes.length && bytes[at] !== 0) {
    // A truncated file holds only the bytes it has.
    dataBytes += Math.min(bytes[at], bytes.length - at - 1);
    at += bytes[at] + 1;
  }
  return { end: at + 1, dataBytes };
}

/** Pixels `dataBytes` of LZW codes at least `minimumCodeSize` + 1 bits wide decode to at most. */
function lzwPixelsAtMost(dataBytes: number, minimumCodeSize: number): number {
  const codes = Math.floor((dataBytes * 8) / (minimumCodeSize + 1));
  if (codes <= LZW_MAX_CODES) return (codes * (codes + 1)) / 2;
  return (LZW_MAX_CODES * (LZW_MAX_CODES + 1)) / 2 + (codes - LZW_MAX_CODES) * LZW_MAX_CODES;
}
