import { describe, expect, it } from 'vitest';
import type { ImageView } from '@diyml/datasets';
import { countImportedContents } from './imported-contents.js';

const box = (labelId: string) => ({ labelId, x: 0.1, y: 0.1, width: 0.5, height: 0.5 });

let seq = 0;
/** An image document as the import's read model holds it, with the given labels and boxes. */
function image(labels: Pick<ImageView, 'labelId' | 'labelSet' | 'regions'>): ImageView {
  seq += 1;
  const labelIds = [labels.labelId, ...labels.labelSet, ...labels.regions.map((region) => region.labelId)];
  return {
    id: `image-${seq}`,
    projectId: 'project',
    filename: `${seq}.png`,
    width: 10,
    height: 10,
    format: 'png',
    bytes: 100,
    sha256: `sha-${seq}`,
    dhash: '0000000000000000',
    ...labels,
    labeled: labelIds.some((labelId) => labelId !== null),
    labelIds: labelIds.filter((labelId) => labelId !== null).sort(),
    split: 'train',
    metadata: {},
    metadataEntries: [],
    included: true,
    uploadedAt: '2026-01-01T00:00:00.000Z',
    seq,
    revision: 0,
  };
}

describe('the contents an import answers with', () => {
  it("counts each multilabel image's labels and each box, leaving out labels the project no longer has", () => {
    const contents = countImportedContents(
      [
        image({ labelId: null, labelSet: ['cat', 'dog'], regions: [] }),
        image({ labelId: null, labelSet: ['cat', 'removed'], regions: [] }),
        image({ labelId: null, labelSet: ['removed'], regions: [] }),
        image({ labelId: null, labelSet: [], regions: [box('cat'), box('dog'), box('removed')] }),
        image({ labelId: 'removed', labelSet: [], regions: [] }),
      ],
      {
        labels: [
          { id: 'cat', name: 'Cat' },
          { id: 'dog', name: 'Dog' },
        ],
        iterations: 3,
        deployments: 1,
      },
    );
    expect(contents).toEqual({
      images: 5,
      labeledImages: 3,
      labels: 2,
      imageLabels: 3,
      regions: 2,
      iterations: 3,
      deployments: 1,
    });
  });
});
