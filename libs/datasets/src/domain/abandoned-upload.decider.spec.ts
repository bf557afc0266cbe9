import { describe, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { abandonedUploadDecider } from './abandoned-upload.decider.js';
import type { ImageUploaded } from './image.events.js';

const spec = deciderSpecification(abandonedUploadDecider);
const data = { projectId: 'p1', sha256: 'abc', imageId: 'img1' };
const abandon = { type: 'AbandonImageUpload' as const, ...data };
const abandoned = { type: 'ImageUploadAbandoned' as const, v: 1, data };
const uploaded: ImageUploaded = {
  type: 'ImageUploaded',
  v: 2,
  data: {
    ...data,
    filename: 'a.png',
    width: 4,
    height: 4,
    format: 'png',
    bytes: 100,
    dhash: '0000000000000000',
    labelId: null,
    split: 'train',
    source: null,
  },
};

describe('abandonedUploadDecider', () => {
  it('fences an upload that never recorded its image', () => {
    spec.given([]).when(abandon).then([abandoned]);
  });

  it('leaves an image that was recorded meanwhile alone: its claim still stands', () => {
    spec.given([uploaded]).when(abandon).thenNothingHappens();
  });

  it('fences an upload once, whoever else found it abandoned too', () => {
    spec.given([abandoned]).when(abandon).thenNothingHappens();
  });
});
