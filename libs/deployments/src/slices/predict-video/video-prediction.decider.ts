import { type CommandMetadata, type Decider, DomainError } from '@diyml/core/pure';
import type { VideoPredictionEvent, VideoPredictionSpec, VideoPredictionStatus } from './video-prediction.events.js';

export type VideoPredictionCommand = { metadata: CommandMetadata } & (
  | { type: 'RequestVideoPrediction'; projectId: string; videoPredictionId: string; spec: VideoPredictionSpec }
  | { type: 'RecordVideoPredictionProgress'; framesDone: number }
  | { type: 'CompleteVideoPrediction'; framesDone: number; resultsSha256: string }
  | { type: 'FailVideoPrediction'; code: string; reason: string }
);

export interface VideoPredictionState {
  status: VideoPredictionStatus | null;
  projectId: string;
  videoPredictionId: string;
  framesDone: number;
}

/** A video prediction: requested, then progress, then completed or failed; a finished one stays as it is. */
export const videoPredictionDecider: Decider<VideoPredictionState, VideoPredictionCommand, VideoPredictionEvent> = {
  initialState: { status: null, projectId: '', videoPredictionId: '', framesDone: 0 },

  decide(command, state) {
    const at = command.metadata.now.toISOString();
    if (command.type === 'RequestVideoPrediction') {
      if (state.status !== null)
        throw DomainError.conflict(
          'VIDEO_PREDICTION_ALREADY_EXISTS',
          `Video prediction ${command.videoPredictionId} already exists.`,
        );
      const { projectId, videoPredictionId, spec } = command;
      return [
        { type: 'VideoPredictionRequested', v: 1, data: { projectId, videoPredictionId, ...spec, requestedAt: at } },
      ];
    }
    if (state.status === null)
      throw DomainError.notFound('VIDEO_PREDICTION_NOT_FOUND', 'The video prediction does not exist.');
    if (state.status !== 'running') return [];
    const ids = { projectId: state.projectId, videoPredictionId: state.videoPredictionId };
    switch (command.type) {
      case 'RecordVideoPredictionProgress':
        if (command.framesDone <= state.framesDone) return [];
        return [{ type: 'VideoPredictionProgressed', v: 1, data: { ...ids, framesDone: command.framesDone } }];
      case 'CompleteVideoPrediction':
        return [
          {
            type: 'VideoPredictionCompleted',
            v: 1,
            data: { ...ids, framesDone: command.framesDone, resultsSha256: command.resultsSha256, completedAt: at },
          },
        ];
      case 'FailVideoPrediction':
        return [
          {
            type: 'VideoPredictionFailed',
            v: 1,
            data: { ...ids, code: command.code, reason: command.reason, failedAt: at },
          },
        ];
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'VideoPredictionRequested':
        return {
          status: 'running',
          projectId: event.data.projectId,
          videoPredictionId: event.data.videoPredictionId,
          framesDone: 0,
        };
      case 'VideoPredictionProgressed':
        return { ...state, framesDone: event.data.framesDone };
      case 'VideoPredictionCompleted':
        return { ...state, status: 'completed', framesDone: event.data.framesDone };
      case 'VideoPredictionFailed':
        return { ...state, status: 'failed' };
    }
  },
};
