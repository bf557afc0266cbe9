import type { Upcaster } from '@diyml/event-store';

/** v1 labels and boxes were all drawn by hand: v2 names a `source`, null for those. */
const withoutSource = (type: 'ImageLabeled' | 'ImageRegionsSet'): Upcaster => ({
  type,
  fromVersion: 1,
  upcast: (data) => ({ ...(data as Record<string, unknown>), source: null }),
});

/** ImageUploaded v2 names where a frame of a video came from (`source`); every v1 image was an uploaded file. */
export const imageUploadedV1ToV2: Upcaster = {
  type: 'ImageUploaded',
  fromVersion: 1,
  upcast(data) {
    return { ...(data as Record<string, unknown>), source: null };
  },
};

/** ImageContentClaimed v2 names the process that claimed (`processId`); v1 claims do not say: null. */
export const imageContentClaimedV1ToV2: Upcaster = {
  type: 'ImageContentClaimed',
  fromVersion: 1,
  upcast(data) {
    return { ...(data as Record<string, unknown>), processId: null };
  },
};

export const datasetUpcasters: readonly Upcaster[] = [
  withoutSource('ImageLabeled'),
  withoutSource('ImageRegionsSet'),
  imageUploadedV1ToV2,
  imageContentClaimedV1ToV2,
];
