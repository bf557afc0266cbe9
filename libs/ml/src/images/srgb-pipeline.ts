import type { Metadata, Sharp } from 'sharp';

/**
 * `image` (encoded bytes opened by sharp) made to decode to the sRGB its colour profile means. sharp converts an
 * embedded profile (a phone's Display P3, a camera's Adobe RGB) to sRGB for an 8-bit image, but keeps a deeper one
 * (an editor's 16-bit PNG or TIFF) in Display P3, paler than it is: only those take sharp's sRGB pipeline, as it takes
 * a 12-MP JPEG's decode from ~70 to ~250 ms. `header`: the image's header when the caller read it already, else it is
 * read here. Loads no sharp of its own (pure).
 */
export async function decodingToSrgb(image: Sharp, header?: Pick<Metadata, 'hasProfile' | 'depth'>): Promise<Sharp> {
  const { hasProfile, depth } = header ?? (await image.metadata());
  return hasProfile && depth !== 'uchar' ? image.pipelineColourspace('srgb') : image;
}
