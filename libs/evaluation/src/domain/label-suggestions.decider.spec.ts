import { describe, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { labelSuggestionsDecider } from './label-suggestions.decider.js';
import type { ImageSuggestion, LabelSuggestionsEvent } from './label-suggestions.events.js';

const now = new Date('2026-06-02T09:00:00.000Z');
const at = now.toISOString();
const metadata = { userId: 'u1', correlationId: 'c1', now };
const spec = deciderSpecification(labelSuggestionsDecider);
const ids = { projectId: 'p1', iterationId: 'it1' };
const runSpec = {
  task: 'classification' as const,
  labels: [{ id: 'l-cat', name: 'cat' }],
  modelSha256: 'm',
  images: [
    { imageId: 'a', sha256: 'sa' },
    { imageId: 'b', sha256: 'sb' },
  ],
};
const request = (runId: string) => ({
  type: 'RequestLabelSuggestions' as const,
  ...ids,
  runId,
  spec: runSpec,
  metadata,
});
const requested = (runId: string, images = runSpec.images): LabelSuggestionsEvent => ({
  type: 'LabelSuggestionsRequested',
  v: 1,
  data: { ...ids, runId, ...runSpec, images, requestedAt: at },
});
const suggestion = (imageId: string): ImageSuggestion => ({
  imageId,
  predictions: [{ labelId: 'l-cat', probability: 0.9, box: null }],
  uncertainty: 0.3,
});
const computed = (runId: string, suggestions: ImageSuggestion[]): LabelSuggestionsEvent => ({
  type: 'LabelSuggestionsComputed',
  v: 1,
  data: { ...ids, runId, suggestions, backend: 'cpu', durationMs: 5, computedAt: at },
});
const rejected = (imageIds: string[]): LabelSuggestionsEvent => ({
  type: 'LabelSuggestionsRejected',
  v: 1,
  data: { ...ids, imageIds, rejectedAt: at },
});
const complete = (runId: string) => ({
  type: 'CompleteLabelSuggestions' as const,
  runId,
  suggestions: [suggestion('a'), suggestion('b')],
  backend: 'cpu',
  durationMs: 5,
  metadata,
});

describe('label suggestions decider', () => {
  it('requests suggestions for images, leaving out those rejected for this iteration', () => {
    spec
      .given([])
      .when(request('r1'))
      .then([requested('r1')]);
    spec
      .given([requested('r1'), rejected(['a'])])
      .when(request('r2'))
      .then([requested('r2', [{ imageId: 'b', sha256: 'sb' }])]);
    spec
      .given([requested('r1'), rejected(['a', 'b'])])
      .when(request('r2'))
      .thenThrows('NO_IMAGES_TO_SUGGEST');
    spec
      .given([requested('r1')])
      .when(request('r1'))
      .thenThrows('SUGGESTION_RUN_ALREADY_EXISTS');
  });

  it('records what the model suggested once; a repeated job changes nothing; images rejected meanwhile get nothing', () => {
    spec
      .given([requested('r1')])
      .when(complete('r1'))
      .then([computed('r1', [suggestion('a'), suggestion('b')])]);
    spec
      .given([requested('r1'), computed('r1', [suggestion('a')])])
      .when(complete('r1'))
      .thenNothingHappens();
    spec
      .given([requested('r1'), rejected(['a'])])
      .when(complete('r1'))
      .then([computed('r1', [suggestion('b')])]);
    spec
      .given([requested('r1')])
      .when(complete('r2'))
      .thenThrows('SUGGESTION_RUN_NOT_FOUND');
  });

  it('fails a running run only', () => {
    const fail = { type: 'FailLabelSuggestions' as const, runId: 'r1', code: 'X', reason: 'broken', metadata };
    spec
      .given([requested('r1')])
      .when(fail)
      .then([
        {
          type: 'LabelSuggestionsFailed',
          v: 1,
          data: { ...ids, runId: 'r1', code: 'X', reason: 'broken', failedAt: at },
        },
      ]);
    spec
      .given([requested('r1'), computed('r1', [])])
      .when(fail)
      .thenNothingHappens();
  });

  it('records rejections once per image', () => {
    const reject = (imageIds: string[]) => ({ type: 'RejectLabelSuggestions' as const, imageIds, metadata });
    spec
      .given([requested('r1')])
      .when(reject(['a', 'a']))
      .then([rejected(['a'])]);
    spec
      .given([requested('r1'), rejected(['a'])])
      .when(reject(['a', 'b']))
      .then([rejected(['b'])]);
    spec
      .given([requested('r1'), rejected(['a'])])
      .when(reject(['a']))
      .thenNothingHappens();
    spec
      .given([])
      .when(reject(['a']))
      .thenThrows('SUGGESTIONS_NOT_FOUND');
  });
});
