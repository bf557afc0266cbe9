import type { Upcaster } from '../../../event-store/src/index.js';

/** ImageUploaded v2 names where a frame of a video came from (`source`); every v1 image was an uploaded file. */
export const imageUploadedV1ToV2: Upcaster = {
  type: 'ImageUploaded',
  fromVersion: 1,
  upcast(data) {
    return { ...(data as Record<string, unknown>), source: null };
  },
};

export const datasetUpcasters: readonly Upcaster[] = [imageUploadedV1ToV2];
