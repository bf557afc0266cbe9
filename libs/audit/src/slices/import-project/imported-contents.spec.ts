import { describe, expect, it } from 'vitest';
import { countImportedContents } from './imported-contents.js';

const box = (labelId: string) => ({ labelId, x: 0.1, y: 0.1, width: 0.5, height: 0.5 });

describe('the contents an import answers with', () => {
  it("counts each multilabel image's labels and each box, leaving out labels the project no longer has", () => {
    const contents = countImportedContents(
      [
        { labelId: null, labelSet: ['cat', 'dog'], regions: [] },
        { labelId: null, labelSet: ['cat', 'removed'], regions: [] },
        { labelId: null, labelSet: ['removed'], regions: [] },
        { labelId: null, labelSet: [], regions: [box('cat'), box('dog'), box('removed')] },
        { labelId: 'removed', labelSet: [], regions: [] },
      ],
      { labelIds: ['cat', 'dog'], iterations: 3, deployments: 1 },
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
