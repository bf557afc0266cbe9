import type { SuggestedLabel, SuggestionRunStatus } from '../../domain/label-suggestions.events.js';

export const LABEL_SUGGESTIONS = 'label-suggestions';
export const LABEL_SUGGESTION_RUNS = 'label-suggestion-runs';

export type SuggestionStatus = 'pending' | 'accepted' | 'rejected' | 'superseded';

/** The latest suggestion of one iteration for one image (collection `label-suggestions`, id `<iterationId>:<imageId>`). */
export interface LabelSuggestionView {
  id: string;
  projectId: string;
  iterationId: string;
  imageId: string;
  runId: string;
  task: 'classification' | 'multilabel' | 'detection';
  /** Most probable first. */
  predictions: SuggestedLabel[];
  /** Every label suggested, for the label filter. */
  labelIds: string[];
  topProbability: number;
  uncertainty: number;
  /** pending until accepted or rejected; superseded when the image was labeled another way or removed. */
  status: SuggestionStatus;
  suggestedAt: string;
  decidedAt: string | null;
}

/** One background computation of suggestions (collection `label-suggestion-runs`). */
export interface SuggestionRunView {
  id: string;
  projectId: string;
  iterationId: string;
  status: SuggestionRunStatus;
  task: 'classification' | 'multilabel' | 'detection';
  imageIds: string[];
  suggestedCount: number | null;
  error: { code: string; reason: string } | null;
  requestedAt: string;
  completedAt: string | null;
  durationMs: number | null;
  revision: number;
}

export const suggestionId = (iterationId: string, imageId: string) => `${iterationId}:${imageId}`;
