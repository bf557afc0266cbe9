import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { contentHolder, imageContentClaimDecider } from './image-content-claim.decider.js';

const spec = deciderSpecification(imageContentClaimDecider);
const data = (imageId: string) => ({ projectId: 'p1', sha256: 'abc', imageId });
const PROCESS = 'upload-process:1';
const claimed = (imageId: string) => ({
  type: 'ImageContentClaimed' as const,
  v: 2,
  data: { ...data(imageId), processId: PROCESS },
});
const released = (imageId: string) => ({ type: 'ImageContentReleased' as const, v: 1, data: data(imageId) });
const claim = (imageId: string, holderActive = true) => ({
  type: 'ClaimImageContent' as const,
  ...data(imageId),
  holderActive,
  processId: PROCESS,
});
const release = (imageId: string) => ({ type: 'ReleaseImageContent' as const, ...data(imageId) });

describe('imageContentClaimDecider', () => {
  it('gives bytes nobody holds to the image that claims them', () => {
    spec
      .given([])
      .when(claim('img1'))
      .then([claimed('img1')]);
  });

  it('changes nothing when another image still holds the bytes: the upload is its duplicate', () => {
    spec
      .given([claimed('img1')])
      .when(claim('img2', true))
      .thenNothingHappens();
    expect(contentHolder({ holder: 'img1' }, [], 'img2')).toBe('img1');
  });

  it('takes over bytes whose holder was removed or never finished uploading', () => {
    spec
      .given([claimed('img1')])
      .when(claim('img2', false))
      .then([claimed('img2')]);
    expect(contentHolder({ holder: 'img1' }, [claimed('img2')], 'img2')).toBe('img2');
  });

  it('claims released bytes again', () => {
    spec
      .given([claimed('img1'), released('img1')])
      .when(claim('img2'))
      .then([claimed('img2')]);
  });

  it('releases bytes for their holder only', () => {
    spec
      .given([claimed('img1')])
      .when(release('img1'))
      .then([released('img1')]);
    spec
      .given([claimed('img1'), claimed('img2')])
      .when(release('img1'))
      .thenNothingHappens();
    spec.given([]).when(release('img1')).thenNothingHappens();
  });
});
