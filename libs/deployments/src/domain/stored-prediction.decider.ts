import { type CommandMetadata, type Decider, DomainError } from '@diyml/core/pure';
import { DeploymentErrors } from './deployment-errors.js';
import type {
  StoredPredictionEvent,
  StoredPredictionPromoted,
  StoredPredictionResult,
} from './stored-prediction.events.js';

export type StoredPredictionCommand = { metadata: CommandMetadata } & (
  | {
      type: 'StorePrediction';
      projectId: string;
      deploymentId: string;
      predictionId: string;
      iterationId: string;
      imageSha256: string;
      imageBytes: number;
      predictions: StoredPredictionResult[];
      callerId: string | null;
    }
  | { type: 'DeleteStoredPrediction'; reason: 'deleted' | 'retention' }
  | {
      type: 'RecordPromotion';
      imageId: string;
      labelId: string | null;
      regions: StoredPredictionPromoted['data']['regions'];
    }
);

export interface StoredPredictionState {
  status: 'stored' | 'deleted' | null;
  projectId: string;
  deploymentId: string;
  predictionId: string;
  imageSha256: string;
  promotedImageId: string | null;
}

export const storedPredictionDecider: Decider<StoredPredictionState, StoredPredictionCommand, StoredPredictionEvent> = {
  initialState: {
    status: null,
    projectId: '',
    deploymentId: '',
    predictionId: '',
    imageSha256: '',
    promotedImageId: null,
  },

  decide(command, state) {
    const at = command.metadata.now.toISOString();
    if (command.type === 'StorePrediction') {
      if (state.status !== null)
        throw DomainError.conflict(
          DeploymentErrors.PREDICTION_ALREADY_STORED,
          `Prediction ${command.predictionId} is stored already.`,
        );
      const { type: _type, metadata: _metadata, ...data } = command;
      return [{ type: 'PredictionStored', v: 1, data: { ...data, storedAt: at } }];
    }
    const ids = { projectId: state.projectId, deploymentId: state.deploymentId, predictionId: state.predictionId };
    switch (command.type) {
      case 'DeleteStoredPrediction':
        // The retention sweep of another api process may have deleted it first: nothing more to do.
        if (state.status === 'deleted' && command.reason === 'retention') return [];
        if (state.status !== 'stored') throw notFound();
        return [
          {
            type: 'StoredPredictionDeleted',
            v: 1,
            data: { ...ids, imageSha256: state.imageSha256, reason: command.reason, deletedAt: at },
          },
        ];
      case 'RecordPromotion':
        if (state.status !== 'stored') throw notFound();
        if (state.promotedImageId) {
          throw DomainError.conflict(
            DeploymentErrors.PREDICTION_ALREADY_PROMOTED,
            `The prediction is in the dataset already, as image ${state.promotedImageId}.`,
            {
              imageId: state.promotedImageId,
            },
          );
        }
        return [
          {
            type: 'StoredPredictionPromoted',
            v: 1,
            data: {
              ...ids,
              imageId: command.imageId,
              labelId: command.labelId,
              regions: command.regions,
              promotedAt: at,
            },
          },
        ];
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'PredictionStored':
        return {
          status: 'stored',
          projectId: event.data.projectId,
          deploymentId: event.data.deploymentId,
          predictionId: event.data.predictionId,
          imageSha256: event.data.imageSha256,
          promotedImageId: null,
        };
      case 'StoredPredictionDeleted':
        return { ...state, status: 'deleted' };
      case 'StoredPredictionPromoted':
        return { ...state, promotedImageId: event.data.imageId };
    }
  },
};

function notFound(): DomainError {
  return DomainError.notFound(
    DeploymentErrors.PREDICTION_NOT_FOUND,
    'The stored prediction does not exist or was deleted.',
  );
}
