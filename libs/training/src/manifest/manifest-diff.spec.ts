import { describe, expect, it } from 'vitest';
import type { DatasetManifest, ManifestImage } from './dataset-manifest.js';
import { diffManifests } from './manifest-diff.js';

const image = (id: string, labelId: string | null, split: ManifestImage['split'] = 'train'): ManifestImage => ({
  id,
  sha256: `sha-${id}`,
  filename: `${id}.png`,
  width: 8,
  height: 8,
  split,
  labelId,
  regions: [],
});

const manifest = (
  images: ManifestImage[],
  labels = [
    { id: 'l-cat', name: 'cat' },
    { id: 'l-dog', name: 'dog' },
  ],
): DatasetManifest => ({
  v: 1,
  projectId: 'p',
  task: 'classification',
  labels,
  images,
});

describe('diffManifests', () => {
  it('names added, removed, relabeled and resplit images exactly', () => {
    const first = manifest([image('a', 'l-cat'), image('b', 'l-cat'), image('c', 'l-dog'), image('d', 'l-dog')]);
    const second = manifest([
      image('a', 'l-cat'),
      image('b', 'l-dog'),
      image('d', 'l-dog', 'validation'),
      image('e', 'l-cat'),
    ]);
    const diff = diffManifests(first, second);
    expect(diff.added).toEqual([{ imageId: 'e', filename: 'e.png' }]);
    expect(diff.removed).toEqual([{ imageId: 'c', filename: 'c.png' }]);
    expect(diff.relabeled).toEqual([
      {
        imageId: 'b',
        filename: 'b.png',
        before: { label: 'cat', labels: [], negative: false, regions: 0, split: 'train' },
        after: { label: 'dog', labels: [], negative: false, regions: 0, split: 'train' },
      },
    ]);
    expect(diff.resplit.map((change) => [change.imageId, change.before.split, change.after.split])).toEqual([
      ['d', 'train', 'validation'],
    ]);
    expect(diff.unchanged).toBe(1);
  });

  it('compares labels by name, so a renamed label shows as relabeled and as a label change', () => {
    const first = manifest([image('a', 'l-cat')], [{ id: 'l-cat', name: 'cat' }]);
    const second = manifest([image('a', 'l-cat')], [{ id: 'l-cat', name: 'kitten' }]);
    const diff = diffManifests(first, second);
    expect(diff.relabeled.map((change) => [change.before.label, change.after.label])).toEqual([['cat', 'kitten']]);
    expect(diff.labels).toEqual({ added: ['kitten'], removed: ['cat'] });
  });

  it("sees a multilabel image's labels and its negative label change", () => {
    const tagged = (id: string, labelIds: string[], negative = false): ManifestImage => ({
      ...image(id, null),
      labelIds,
      ...(negative ? { negative: true as const } : {}),
    });
    const labels = [
      { id: 'l-cat', name: 'cat' },
      { id: 'l-outdoor', name: 'outdoor' },
    ];
    const first = {
      ...manifest([tagged('a', ['l-cat']), tagged('b', ['l-cat', 'l-outdoor']), tagged('c', [], true)], labels),
      task: 'multilabel' as const,
    };
    const second = {
      ...manifest([tagged('a', ['l-outdoor', 'l-cat']), tagged('b', ['l-outdoor', 'l-cat']), tagged('c', [])], labels),
      task: 'multilabel' as const,
    };
    const diff = diffManifests(first, second);
    expect(
      diff.relabeled.map((change) => [
        change.imageId,
        change.before.labels,
        change.after.labels,
        change.after.negative,
      ]),
    ).toEqual([
      ['a', ['cat'], ['cat', 'outdoor'], false],
      ['c', [], [], false],
    ]);
    expect(diff.relabeled[1].before.negative).toBe(true);
    expect(diff.unchanged).toBe(1);
  });
});
