import { type CommandMetadata, type Decider, DomainError } from '@diyml/core/pure';
import type {
  ImageSuggestion,
  LabelSuggestionsEvent,
  LabelSuggestionsRequested,
  SuggestionRunStatus,
} from './label-suggestions.events.js';

type RunSpec = Omit<LabelSuggestionsRequested['data'], 'projectId' | 'iterationId' | 'runId' | 'requestedAt'>;

export type LabelSuggestionsCommand = { metadata: CommandMetadata } & (
  | { type: 'RequestLabelSuggestions'; projectId: string; iterationId: string; runId: string; spec: RunSpec }
  | {
      type: 'CompleteLabelSuggestions';
      runId: string;
      suggestions: ImageSuggestion[];
      backend: string;
      durationMs: number;
    }
  | { type: 'FailLabelSuggestions'; runId: string; code: string; reason: string }
  | { type: 'RejectLabelSuggestions'; imageIds: string[] }
);

export interface LabelSuggestionsState {
  projectId: string | null;
  iterationId: string | null;
  runs: Record<string, SuggestionRunStatus>;
  /** Images whose suggestions were rejected for this iteration. */
  rejected: Record<string, true>;
}

export const labelSuggestionsDecider: Decider<LabelSuggestionsState, LabelSuggestionsCommand, LabelSuggestionsEvent> = {
  initialState: { projectId: null, iterationId: null, runs: {}, rejected: {} },

  decide(command, state) {
    const at = command.metadata.now.toISOString();
    if (command.type === 'RequestLabelSuggestions') {
      if (state.runs[command.runId])
        throw DomainError.conflict('SUGGESTION_RUN_ALREADY_EXISTS', `Suggestion run ${command.runId} already exists.`);
      const images = command.spec.images.filter((image) => !state.rejected[image.imageId]);
      if (images.length === 0) {
        throw DomainError.unprocessable(
          'NO_IMAGES_TO_SUGGEST',
          'None of these images can get suggestions from this iteration: they are labeled, or their suggestions were rejected.',
        );
      }
      const { projectId, iterationId, runId, spec } = command;
      return [
        {
          type: 'LabelSuggestionsRequested',
          v: 1,
          data: { projectId, iterationId, runId, ...spec, images, requestedAt: at },
        },
      ];
    }
    if (state.projectId === null || state.iterationId === null) {
      throw DomainError.notFound('SUGGESTIONS_NOT_FOUND', 'This iteration has suggested no labels yet.');
    }
    const ids = { projectId: state.projectId, iterationId: state.iterationId };
    switch (command.type) {
      case 'CompleteLabelSuggestions': {
        const status = requireRun(state, command.runId);
        if (status === 'completed') return [];
        if (status === 'failed')
          throw DomainError.conflict('SUGGESTION_RUN_FINISHED', 'The suggestion run already failed.');
        // Images rejected while the model ran get no suggestion.
        const suggestions = command.suggestions.filter((suggestion) => !state.rejected[suggestion.imageId]);
        const { runId, backend, durationMs } = command;
        return [
          {
            type: 'LabelSuggestionsComputed',
            v: 1,
            data: { ...ids, runId, suggestions, backend, durationMs, computedAt: at },
          },
        ];
      }
      case 'FailLabelSuggestions':
        if (requireRun(state, command.runId) !== 'requested') return [];
        return [
          {
            type: 'LabelSuggestionsFailed',
            v: 1,
            data: { ...ids, runId: command.runId, code: command.code, reason: command.reason, failedAt: at },
          },
        ];
      case 'RejectLabelSuggestions': {
        const imageIds = [...new Set(command.imageIds)].filter((imageId) => !state.rejected[imageId]);
        if (imageIds.length === 0) return [];
        return [{ type: 'LabelSuggestionsRejected', v: 1, data: { ...ids, imageIds, rejectedAt: at } }];
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'LabelSuggestionsRequested':
        return {
          ...state,
          projectId: event.data.projectId,
          iterationId: event.data.iterationId,
          runs: { ...state.runs, [event.data.runId]: 'requested' },
        };
      case 'LabelSuggestionsComputed':
        return { ...state, runs: { ...state.runs, [event.data.runId]: 'completed' } };
      case 'LabelSuggestionsFailed':
        return { ...state, runs: { ...state.runs, [event.data.runId]: 'failed' } };
      case 'LabelSuggestionsRejected':
        return {
          ...state,
          rejected: {
            ...state.rejected,
            ...Object.fromEntries(event.data.imageIds.map((imageId) => [imageId, true as const])),
          },
        };
    }
  },
};

function requireRun(state: LabelSuggestionsState, runId: string): SuggestionRunStatus {
  const status = state.runs[runId];
  if (!status) throw DomainError.notFound('SUGGESTION_RUN_NOT_FOUND', `Suggestion run ${runId} does not exist.`);
  return status;
}
