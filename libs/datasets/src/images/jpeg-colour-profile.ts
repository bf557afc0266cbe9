/** A JPEG's ICC profile is kept in APP2 segments, each tagged so, numbered, and holding one piece (ICC.1, annex B.4). */
const APP2 = 0xffe2;
const APP0 = 0xffe0;
const ICC_TAG = Buffer.from('ICC_PROFILE\0', 'latin1');
/** A segment's length field counts itself (2 bytes) and is 16-bit; the tag and the piece's number and count follow. */
const PIECE_BYTES = 0xffff - 2 - ICC_TAG.length - 2;
/** The pieces are numbered in one byte. */
const MAX_PIECES = 255;

/** The largest ICC profile a JPEG can hold (~16 MB; a real one is a few kB). */
export const MAX_JPEG_ICC_PROFILE_BYTES = PIECE_BYTES * MAX_PIECES;

/**
 * The JPEG with `profile` embedded, so decoders read its pixels in that colour space (a Display P3 photo as P3, not as
 * a paler sRGB). Only for a JPEG that has no profile yet, as sharp writes one from raw pixels.
 */
export function withIccProfile(jpeg: Buffer, profile: Uint8Array): Buffer {
  if (profile.length === 0 || profile.length > MAX_JPEG_ICC_PROFILE_BYTES) {
    throw new RangeError(`an ICC profile of ${profile.length} bytes does not fit in a JPEG`);
  }
  const count = Math.ceil(profile.length / PIECE_BYTES);
  const segments: Buffer[] = [];
  for (let index = 0; index < count; index += 1) {
    const piece = profile.subarray(index * PIECE_BYTES, (index + 1) * PIECE_BYTES);
    const header = Buffer.alloc(4);
    header.writeUInt16BE(APP2, 0);
    header.writeUInt16BE(2 + ICC_TAG.length + 2 + piece.length, 2);
    segments.push(header, ICC_TAG, Buffer.from([index + 1, count]), Buffer.from(piece));
  }
  // After the start-of-image marker, and after a JFIF header (APP0), which must come first when there is one.
  const at = jpeg.readUInt16BE(2) === APP0 ? 4 + jpeg.readUInt16BE(4) : 2;
  return Buffer.concat([jpeg.subarray(0, at), ...segments, jpeg.subarray(at)]);
}
