import type { DomainEvent } from '@diyml/core/pure';

/** One stream per iteration: its suggestion runs and the suggestions people rejected. */
export const labelSuggestionsStream = (iterationId: string) => `label-suggestions-${iterationId}`;

export type SuggestionRunStatus = 'requested' | 'completed' | 'failed';

/** A box in fractions of the image, origin top-left. */
export interface SuggestedBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One label the model suggests for an image (classification), or one box (detection). */
export interface SuggestedLabel {
  labelId: string;
  probability: number;
  box: SuggestedBox | null;
}

export interface ImageSuggestion {
  imageId: string;
  /** Most probable first. */
  predictions: SuggestedLabel[];
  /** Entropy of the prediction: high when the model is unsure, so people review those first. */
  uncertainty: number;
}

type Base = { projectId: string; iterationId: string };

export type LabelSuggestionsRequested = DomainEvent<
  'LabelSuggestionsRequested',
  Base & {
    runId: string;
    task: 'classification' | 'multilabel' | 'detection';
    /** The model's labels in output order, with the project label each one is. */
    labels: { id: string; name: string }[];
    modelSha256: string;
    images: { imageId: string; sha256: string }[];
    requestedAt: string;
  }
>;
export type LabelSuggestionsComputed = DomainEvent<
  'LabelSuggestionsComputed',
  Base & { runId: string; suggestions: ImageSuggestion[]; backend: string; durationMs: number; computedAt: string }
>;
export type LabelSuggestionsFailed = DomainEvent<
  'LabelSuggestionsFailed',
  Base & { runId: string; code: string; reason: string; failedAt: string }
>;
/** People turned these suggestions down: this iteration does not suggest labels for these images again. */
export type LabelSuggestionsRejected = DomainEvent<
  'LabelSuggestionsRejected',
  Base & { imageIds: string[]; rejectedAt: string }
>;

export type LabelSuggestionsEvent =
  LabelSuggestionsRequested | LabelSuggestionsComputed | LabelSuggestionsFailed | LabelSuggestionsRejected;

export const LABEL_SUGGESTIONS_EVENT_TYPES = [
  'LabelSuggestionsRequested',
  'LabelSuggestionsComputed',
  'LabelSuggestionsFailed',
  'LabelSuggestionsRejected',
] as const satisfies readonly LabelSuggestionsEvent['type'][];
