/**
 * Formats images are kept in (training and predictions): those sharp's prebuilt libvips decodes from the bytes. HEIC
 * photos are taken too, converted to JPEG when they come in (heic-conversion.ts).
 */
export const SUPPORTED_IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const;
export type ImageFormat = (typeof SUPPORTED_IMAGE_FORMATS)[number];

/** The stable code of a picture in a format people send that is not taken (answered 415). */
export const UNSUPPORTED_IMAGE_FORMAT = 'UNSUPPORTED_IMAGE_FORMAT';

/** The formats taken, for messages (HEIC converted to JPEG when taken). */
export const SUPPORTED_IMAGE_FORMATS_TEXT = 'JPEG, PNG, WebP, AVIF, TIFF, GIF or HEIC';

/**
 * The format sharp read a header as, by the names used here: HEIF is AVIF when AV1-coded, else HEIC (sharp's prebuilt
 * libvips decodes no HEVC: HEIC photos are converted before, see isHeicPhoto).
 */
export function formatNameOf(metadata: { format?: string; compression?: string }): string {
  if (metadata.format === 'heif') return metadata.compression === 'av1' ? 'avif' : 'heic';
  return String(metadata.format);
}

export function isSupportedImageFormat(format: string): format is ImageFormat {
  return (SUPPORTED_IMAGE_FORMATS as readonly string[]).includes(format);
}

/** A picture format recognised from its first bytes that is not taken, and how its users convert it. */
export interface UnsupportedFormat {
  /** Lower-case name, e.g. 'heic'. */
  readonly format: string;
  /** What to tell the user: the formats taken and how to convert this one. */
  readonly message: string;
}

interface KnownFormat {
  format: string;
  name: string;
  howToConvert: string;
  matches(bytes: Uint8Array): boolean;
}

const ascii = (bytes: Uint8Array, start: number, end: number) => String.fromCharCode(...bytes.subarray(start, end));
const startsWith = (bytes: Uint8Array, prefix: readonly number[]) => prefix.every((byte, i) => bytes[i] === byte);

/** ISO base media files (HEIF, AVIF, MP4) name their brands in the leading 'ftyp' box. */
function ftypBrands(bytes: Uint8Array): string[] {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== 'ftyp') return [];
  const boxSize = Math.min(bytes.length, ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0);
  const brands = [ascii(bytes, 8, 12)];
  for (let offset = 16; offset + 4 <= boxSize; offset += 4) brands.push(ascii(bytes, offset, offset + 4));
  return brands;
}

/**
 * Brands of HEVC-coded HEIF (iPhone photos). AVIF ('avif', 'avis') is HEIF too, with AV1, and is taken; a file naming
 * only the generic HEIF brands (mif1, msf1) is left to the decoder, which tells its codec.
 */
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

/**
 * Whether the bytes are a HEIC photo (HEVC-coded HEIF, an iPhone's default), by the brands of its 'ftyp' box: sharp's
 * prebuilt libvips reads its header but decodes no HEVC, so it is converted to JPEG when taken (heic-conversion.ts).
 */
export function isHeicPhoto(bytes: Uint8Array): boolean {
  const brands = ftypBrands(bytes);
  return brands.some((brand) => HEIC_BRANDS.has(brand)) && !brands.some((brand) => AVIF_BRANDS.has(brand));
}

/** Whether the bytes are a HEIF file naming only the generic brands (mif1, msf1): its codec is the header's to tell. */
export function isGenericHeif(bytes: Uint8Array): boolean {
  const brands = ftypBrands(bytes);
  return (
    brands.some((brand) => brand === 'mif1' || brand === 'msf1') && !brands.some((brand) => AVIF_BRANDS.has(brand))
  );
}
/** The header sizes of BMP's DIB header versions (BITMAPCOREHEADER … BITMAPV5HEADER). */
const BMP_HEADER_SIZES = new Set([12, 40, 52, 56, 64, 108, 124]);

const KNOWN_FORMATS: readonly KnownFormat[] = [
  {
    format: 'bmp',
    name: 'BMP images',
    howToConvert: 'Save them as PNG (lossless), e.g. with Paint › Save as › PNG or `magick photo.bmp photo.png`',
    matches: (bytes) =>
      bytes.length >= 26 &&
      ascii(bytes, 0, 2) === 'BM' &&
      BMP_HEADER_SIZES.has(bytes[14] | (bytes[15] << 8) | (bytes[16] << 16) | (bytes[17] << 24)),
  },
  {
    format: 'jxl',
    name: 'JPEG XL images',
    howToConvert: 'Convert them to JPEG or PNG, e.g. `djxl photo.jxl photo.png` or `magick photo.jxl photo.jpg`',
    matches: (bytes) =>
      startsWith(bytes, [0xff, 0x0a]) ||
      startsWith(bytes, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a]),
  },
  {
    format: 'jp2',
    name: 'JPEG 2000 images',
    howToConvert: 'Convert them to JPEG or PNG, e.g. `magick photo.jp2 photo.png`',
    matches: (bytes) =>
      startsWith(bytes, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]) ||
      startsWith(bytes, [0xff, 0x4f, 0xff, 0x51]),
  },
  {
    format: 'psd',
    name: 'Photoshop documents',
    howToConvert: 'Export them as PNG or JPEG (File › Export › Quick Export as PNG)',
    matches: (bytes) => ascii(bytes, 0, 4) === '8BPS',
  },
  {
    format: 'pdf',
    name: 'PDF documents',
    howToConvert: 'Export the page or picture as PNG or JPEG',
    matches: (bytes) => ascii(bytes, 0, 5) === '%PDF-',
  },
];

function messageOf(name: string, howToConvert: string): string {
  return `${name} are not taken: send ${SUPPORTED_IMAGE_FORMATS_TEXT}. ${howToConvert}.`;
}

/** A picture format recognised from the bytes' signature that sharp does not decode here, or null. */
export function unsupportedFormatOf(bytes: Uint8Array): UnsupportedFormat | null {
  const known = KNOWN_FORMATS.find((candidate) => candidate.matches(bytes));
  return known ? { format: known.format, message: messageOf(known.name, known.howToConvert) } : null;
}

/**
 * The refusal of a picture sharp read the header of but whose format is not taken (SVG, …):
 * `format` as sharp names it.
 */
export function unsupportedFormatNamed(format: string): UnsupportedFormat {
  const known = KNOWN_FORMATS.find((candidate) => candidate.format === format);
  if (known) return { format, message: messageOf(known.name, known.howToConvert) };
  return {
    format,
    message: messageOf(`${format.toUpperCase()} images`, 'Save or export the picture as PNG or JPEG'),
  };
}

/** How a request whose every image was refused for `code` is answered: 415 for a format not taken, else 400. */
export function kindOfImageRefusal(code: string): 'unsupported-media-type' | 'validation' {
  return code === UNSUPPORTED_IMAGE_FORMAT ? 'unsupported-media-type' : 'validation';
}
