import type { StoredPredictionResult } from '../../domain/stored-prediction.events.js';

export const STORED_PREDICTIONS = 'stored-predictions';

/** Read-model document of a stored prediction (collection `stored-predictions`); deleted ones are removed. */
export interface StoredPredictionView {
  id: string;
  projectId: string;
  deploymentId: string;
  iterationId: string;
  imageSha256: string;
  imageBytes: number;
  predictions: StoredPredictionResult[];
  callerId: string | null;
  storedAt: string;
  promotedImageId: string | null;
  revision: number;
}
