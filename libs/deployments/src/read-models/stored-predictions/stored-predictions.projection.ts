import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore, updateStreamDocument } from '@diyml/read-store/pure';
import { STORED_PREDICTION_EVENT_TYPES, type StoredPredictionEvent } from '../../domain/stored-prediction.events.js';
import { STORED_PREDICTIONS, type StoredPredictionView } from './stored-prediction.view.js';

/** The predictions deployments kept, for listing, filtering, retention and promotion. */
@ReadModelProjection()
@Injectable()
export class StoredPredictionsProjection implements Projection<StoredPredictionEvent> {
  readonly name = 'stored-predictions';
  /** 2: no `labels` (the label filter names labels per iteration, in StoredPredictionQueries). */
  readonly version = 2;
  readonly collections = [STORED_PREDICTIONS];
  readonly eventTypes = STORED_PREDICTION_EVENT_TYPES;

  async apply(event: Recorded<StoredPredictionEvent>, store: ReadStore): Promise<void> {
    const predictions = store.collection<StoredPredictionView>(STORED_PREDICTIONS);
    switch (event.type) {
      case 'PredictionStored': {
        const data = event.data;
        await predictions.apply(data.predictionId, event.position, () => ({
          id: data.predictionId,
          projectId: data.projectId,
          deploymentId: data.deploymentId,
          iterationId: data.iterationId,
          imageSha256: data.imageSha256,
          imageBytes: data.imageBytes,
          predictions: data.predictions,
          callerId: data.callerId,
          storedAt: data.storedAt,
          promotedImageId: null,
          revision: event.revision,
        }));
        return;
      }
      case 'StoredPredictionDeleted':
        await predictions.apply(event.data.predictionId, event.position, () => null);
        return;
      case 'StoredPredictionPromoted':
        await updateStreamDocument(predictions, event.data.predictionId, event, () => ({
          promotedImageId: event.data.imageId,
        }));
        return;
    }
  }
}
