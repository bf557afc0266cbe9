import type { BlobStore } from '@diyml/blobs';

/**
 * Reads each distinct image blob once into one shared buffer: the map holds a view per image. One buffer is handed
 * to the training thread in a single transfer (no copy), where tens of thousands of small ones would be copied or
 * transferred one by one. An aborted `signal` (the job handed back) stops the reading between two images.
 */
export async function readImagesPacked(
  blobs: BlobStore,
  sha256s: Iterable<string>,
  onRead?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<Map<string, Uint8Array>> {
  const distinct = new Set(sha256s);
  const read = new Map<string, Uint8Array>();
  let total = 0;
  onRead?.(0, distinct.size);
  for (const sha256 of distinct) {
    signal?.throwIfAborted();
    const bytes = await blobs.get(sha256);
    read.set(sha256, bytes);
    total += bytes.byteLength;
    onRead?.(read.size, distinct.size);
  }
  const packed = new Uint8Array(total);
  const views = new Map<string, Uint8Array>();
  let offset = 0;
  for (const [sha256, bytes] of read) {
    packed.set(bytes, offset);
    views.set(sha256, packed.subarray(offset, offset + bytes.byteLength));
    offset += bytes.byteLength;
    read.delete(sha256);
  }
  return views;
}
