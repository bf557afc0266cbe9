import { describe, expect, it } from 'vitest';
import type { DatasetManifest, ManifestImage } from '../manifest/dataset-manifest.js';
import { toTrainingDataset } from './training-dataset.js';

const image = (id: string, fields: Partial<ManifestImage>): ManifestImage => ({
  id,
  sha256: `sha-${id}`,
  filename: `${id}.png`,
  width: 8,
  height: 8,
  split: 'train',
  labelId: null,
  regions: [],
  ...fields,
});

const labels = [
  { id: 'red', name: 'red' },
  { id: 'blue', name: 'blue' },
];

function examplesOf(manifest: DatasetManifest) {
  const bytes = new Map(manifest.images.map((entry) => [entry.sha256, new Uint8Array([1])]));
  const { dataset, imageIds } = toTrainingDataset(manifest, bytes);
  return {
    labels: dataset.labels,
    examples: dataset.examples.map((example, index) => ({ id: imageIds[index], example })),
  };
}

describe('training examples of negative images', () => {
  it('learns a multilabel negative image with every label absent, and still leaves an untagged one out', () => {
    const { labels: learned, examples } = examplesOf({
      v: 1,
      projectId: 'p1',
      task: 'multilabel',
      labels,
      images: [
        image('both', { labelIds: ['red', 'blue'] }),
        image('nothing', { labelIds: [], negative: true }),
        image('untagged', { labelIds: [] }),
      ],
    });
    expect(learned).toEqual(['red', 'blue']);
    expect(examples.map(({ id, example }) => [id, example.labels])).toEqual([
      ['both', [0, 1]],
      ['nothing', []],
    ]);
  });

  it('leaves a classification negative image out: its label is no class of the model', () => {
    const { labels: learned, examples } = examplesOf({
      v: 1,
      projectId: 'p1',
      task: 'classification',
      labels,
      images: [
        image('red', { labelId: 'red' }),
        image('nothing', { labelId: 'none', negative: true }),
        image('blue', { labelId: 'blue' }),
      ],
    });
    expect(learned).toEqual(['red', 'blue']);
    expect(examples.map(({ id, example }) => [id, example.label])).toEqual([
      ['red', 0],
      ['blue', 1],
    ]);
  });
});
