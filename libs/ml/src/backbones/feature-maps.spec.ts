import { describe, expect, it } from 'vitest';
import {
  encodeFeatureMapIndex,
  featureMapsFromBytes,
  featureMapsToBytes,
  readFeatureMapIndex,
} from './feature-maps.js';
import { emptyEmbeddingTable, encodeEmbeddingTable } from './embeddings.js';

const space = { backbone: 'tiny', layer: 'a+b', preprocessing: 'letterbox-32-range-0..1-maps' };

describe('feature map blobs and their index', () => {
  it("stores an image's views in one blob and reads them back as they were", () => {
    const identity = Float32Array.from([1.5, -2, 3]);
    const flipped = Float32Array.from([0, 0.25, -7]);
    const bytes = featureMapsToBytes([identity, flipped]);
    expect(bytes.byteLength).toBe(6 * 4);
    const maps = featureMapsFromBytes(bytes, 3, 2)!;
    expect(maps.map((map) => Array.from(map))).toEqual([Array.from(identity), Array.from(flipped)]);
  });

  it("reads a whole blob's maps in place, and copies those of a part of a larger buffer", () => {
    const bytes = featureMapsToBytes([Float32Array.from([1, 2]), Float32Array.from([3, 4])]);
    const inPlace = featureMapsFromBytes(bytes, 2, 2)!;
    expect(inPlace.map((map) => map.buffer)).toEqual([bytes.buffer, bytes.buffer]);

    const larger = new Uint8Array(4 + bytes.byteLength);
    larger.set(bytes, 4);
    const copied = featureMapsFromBytes(larger.subarray(4), 2, 2)!;
    expect(copied[0].buffer).not.toBe(larger.buffer);
    // Moving the copy to another thread (a transfer) leaves the larger buffer whole.
    structuredClone(copied[0].buffer, { transfer: [copied[0].buffer as ArrayBuffer] });
    expect(larger.byteLength).toBe(20);
  });

  it('reads a blob that does not fit its index as missing, so its maps are computed again', () => {
    expect(featureMapsFromBytes(featureMapsToBytes([Float32Array.from([1, 2, 3])]), 3, 2)).toBeNull();
  });

  it('lists per image the blob and its views, in either index version', () => {
    const index = readFeatureMapIndex(
      encodeFeatureMapIndex(space, 3, [
        ['image-b', 'blob-b', ['identity']],
        ['image-a', 'blob-a', ['identity', 'plan:[1]']],
      ]),
    );
    expect(index).toEqual({
      space,
      dimension: 3,
      images: [
        ['image-a', 'blob-a', ['identity', 'plan:[1]']],
        ['image-b', 'blob-b', ['identity']],
      ],
    });
    // Written before one blob per image: one blob per view, each read as an image blob of that one view.
    const older = new TextEncoder().encode(
      JSON.stringify({
        format: 'diyml-feature-maps',
        v: 1,
        space,
        dimension: 3,
        entries: [
          ['image-a', 'identity', 'map-1'],
          ['image-a', 'plan:[1]', 'map-2'],
        ],
      }),
    );
    expect(readFeatureMapIndex(older)?.images).toEqual([
      ['image-a', 'map-1', ['identity']],
      ['image-a', 'map-2', ['plan:[1]']],
    ]);
  });

  it('tells an embedding table from an index', () => {
    expect(readFeatureMapIndex(encodeEmbeddingTable(emptyEmbeddingTable(space, 3)))).toBeNull();
  });
});
