import type { DomainEvent } from '@diyml/core/pure';

export const storedPredictionStream = (predictionId: string) => `stored-prediction-${predictionId}`;

export interface StoredPredictionResult {
  label: string;
  probability: number;
  box?: { x: number; y: number; width: number; height: number };
}

type Base = { projectId: string; deploymentId: string; predictionId: string };

/** A prediction a deployment kept: the image is a blob (by sha256), the results as they were answered. */
export type PredictionStored = DomainEvent<
  'PredictionStored',
  Base & {
    iterationId: string;
    imageSha256: string;
    imageBytes: number;
    predictions: StoredPredictionResult[];
    /** Who called: a user id (shared model, Custom Vision personal token) or null for the deployment key. */
    callerId: string | null;
    storedAt: string;
  }
>;

/** Deleted by its owner, or by the deployment's retention limit. The image blob is left to other references. */
export type StoredPredictionDeleted = DomainEvent<
  'StoredPredictionDeleted',
  Base & { imageSha256: string; reason: 'deleted' | 'retention'; deletedAt: string }
>;

/** Added to the project's dataset as image `imageId` with the label or boxes the owner gave. */
export type StoredPredictionPromoted = DomainEvent<
  'StoredPredictionPromoted',
  Base & {
    imageId: string;
    labelId: string | null;
    regions: { labelId: string; x: number; y: number; width: number; height: number }[] | null;
    promotedAt: string;
  }
>;

export type StoredPredictionEvent = PredictionStored | StoredPredictionDeleted | StoredPredictionPromoted;

export const STORED_PREDICTION_EVENT_TYPES = [
  'PredictionStored',
  'StoredPredictionDeleted',
  'StoredPredictionPromoted',
] as const satisfies readonly StoredPredictionEvent['type'][];
