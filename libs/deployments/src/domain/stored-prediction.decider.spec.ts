import { describe, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { storedPredictionDecider } from './stored-prediction.decider.js';
import type { StoredPredictionEvent } from './stored-prediction.events.js';

const now = new Date('2026-06-01T10:00:00.000Z');
const metadata = { userId: 'u1', correlationId: 'c1', now };
const spec = deciderSpecification(storedPredictionDecider);
const ids = { projectId: 'p1', deploymentId: 'd1', predictionId: 's1' };
const sha = 'a'.repeat(64);
const stored: StoredPredictionEvent = {
  type: 'PredictionStored',
  v: 1,
  data: {
    ...ids,
    iterationId: 'i1',
    imageSha256: sha,
    imageBytes: 10,
    predictions: [{ label: 'cat', probability: 0.9 }],
    callerId: null,
    storedAt: now.toISOString(),
  },
};
const deleted = (reason: 'deleted' | 'retention'): StoredPredictionEvent => ({
  type: 'StoredPredictionDeleted',
  v: 1,
  data: { ...ids, imageSha256: sha, reason, deletedAt: now.toISOString() },
});
const promoted: StoredPredictionEvent = {
  type: 'StoredPredictionPromoted',
  v: 1,
  data: { ...ids, imageId: 'img1', labelId: 'l1', regions: null, promotedAt: now.toISOString() },
};

describe('stored prediction decider', () => {
  it('stores once', () => {
    const { predictions, iterationId, imageBytes, callerId } = (
      stored as Extract<StoredPredictionEvent, { type: 'PredictionStored' }>
    ).data;
    const command = {
      type: 'StorePrediction' as const,
      ...ids,
      iterationId,
      imageSha256: sha,
      imageBytes,
      predictions,
      callerId,
      metadata,
    };
    spec.given([]).when(command).then([stored]);
    spec.given([stored]).when(command).thenThrows('PREDICTION_ALREADY_STORED');
  });

  it('deletes a stored prediction; a second retention sweep changes nothing, a second user delete is 404', () => {
    spec
      .given([stored])
      .when({ type: 'DeleteStoredPrediction', reason: 'deleted', metadata })
      .then([deleted('deleted')]);
    spec
      .given([stored, deleted('retention')])
      .when({ type: 'DeleteStoredPrediction', reason: 'retention', metadata })
      .thenNothingHappens();
    spec
      .given([stored, deleted('retention')])
      .when({ type: 'DeleteStoredPrediction', reason: 'deleted', metadata })
      .thenThrows('PREDICTION_NOT_FOUND');
    spec
      .given([])
      .when({ type: 'DeleteStoredPrediction', reason: 'deleted', metadata })
      .thenThrows('PREDICTION_NOT_FOUND');
  });

  it('records one promotion, and none of a deleted prediction', () => {
    const promote = { type: 'RecordPromotion' as const, imageId: 'img1', labelId: 'l1', regions: null, metadata };
    spec.given([stored]).when(promote).then([promoted]);
    spec.given([stored, promoted]).when(promote).thenThrows('PREDICTION_ALREADY_PROMOTED');
    spec
      .given([stored, deleted('deleted')])
      .when(promote)
      .thenThrows('PREDICTION_NOT_FOUND');
  });
});
