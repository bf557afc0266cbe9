import type { Upcaster } from '../../../event-store/src/index.js';

/** v1 labels and boxes were all drawn by hand: v2 names a `source`, null for those. */
const withoutSource = (type: 'ImageLabeled' | 'ImageRegionsSet'): Upcaster => ({
  type,
  fromVersion: 1,
  upcast: (data) => ({ ...(data as Record<string, unknown>), source: null }),
});

export const datasetUpcasters: readonly Upcaster[] = [withoutSource('ImageLabeled'), withoutSource('ImageRegionsSet')];
