import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '@diyml/event-store';
import { InMemoryReadStore, type Projection } from '@diyml/read-store/pure';
import type { LabelSuggestionsEvent } from '../../domain/label-suggestions.events.js';
import {
  LABEL_SUGGESTION_RUNS,
  LABEL_SUGGESTIONS,
  type LabelSuggestionView,
  type SuggestionRunView,
} from './label-suggestion.view.js';
import { LabelSuggestionsProjection } from './label-suggestions.projection.js';

const at = '2026-06-02T09:00:00.000Z';
const ids = { projectId: 'p1', iterationId: 'it1' };
let position = 0;
const record = (streamId: string, event: { type: string; v: number; data: unknown }): RecordedEvent => {
  position += 1;
  return {
    id: randomUUID(),
    streamId,
    revision: position,
    position,
    type: event.type,
    v: event.v,
    data: event.data,
    metadata: { userId: 'u1', correlationId: 'c1', causationId: null, at },
  };
};
const requested: LabelSuggestionsEvent = {
  type: 'LabelSuggestionsRequested',
  v: 1,
  data: {
    ...ids,
    runId: 'r1',
    task: 'classification',
    labels: [{ id: 'cat', name: 'cat' }],
    modelSha256: 'm',
    images: ['a', 'b', 'c'].map((imageId) => ({ imageId, sha256: imageId })),
    requestedAt: at,
  },
};
const suggestion = (imageId: string, probability: number) => ({
  imageId,
  predictions: [
    { labelId: 'cat', probability, box: null },
    { labelId: 'dog', probability: 1 - probability, box: null },
  ],
  uncertainty: 0.5,
});
const computed: LabelSuggestionsEvent = {
  type: 'LabelSuggestionsComputed',
  v: 1,
  data: {
    ...ids,
    runId: 'r1',
    suggestions: [suggestion('a', 0.9), suggestion('b', 0.6), suggestion('c', 0.7)],
    backend: 'cpu',
    durationMs: 3,
    computedAt: at,
  },
};

describe('label suggestions projection', () => {
  it('follows a run and each suggestion: accepted by a labeling event naming the iteration, rejected, superseded by a hand label; replays change nothing', async () => {
    const store = new InMemoryReadStore();
    const projection: Projection = new LabelSuggestionsProjection();
    const events = [
      record('label-suggestions-it1', requested),
      record('label-suggestions-it1', computed),
      record('image-a', {
        type: 'ImageLabeled',
        v: 2,
        data: {
          projectId: 'p1',
          imageId: 'a',
          labelId: 'cat',
          source: { kind: 'suggestion', iterationId: 'it1', edited: false },
        },
      }),
      record('label-suggestions-it1', {
        type: 'LabelSuggestionsRejected',
        v: 1,
        data: { ...ids, imageIds: ['b'], rejectedAt: at },
      }),
      record('image-c', {
        type: 'ImageLabeled',
        v: 2,
        data: { projectId: 'p1', imageId: 'c', labelId: 'dog', source: null },
      }),
    ];
    for (const event of [...events, ...events]) await projection.apply(event, store);

    expect(await store.collection<SuggestionRunView>(LABEL_SUGGESTION_RUNS).get('r1')).toMatchObject({
      status: 'completed',
      suggestedCount: 3,
      imageIds: ['a', 'b', 'c'],
    });
    const suggestions = await store.collection<LabelSuggestionView>(LABEL_SUGGESTIONS).findAll({ iterationId: 'it1' });
    expect(Object.fromEntries(suggestions.map((view) => [view.imageId, view.status]))).toEqual({
      a: 'accepted',
      b: 'rejected',
      c: 'superseded',
    });
    expect(suggestions.find((view) => view.imageId === 'a')).toMatchObject({
      topProbability: 0.9,
      labelIds: ['cat', 'dog'],
      task: 'classification',
      decidedAt: at,
    });

    await projection.apply(
      record('image-c', { type: 'ImageRemoved', v: 1, data: { projectId: 'p1', imageId: 'c', sha256: 'c' } }),
      store,
    );
    expect(await store.collection<LabelSuggestionView>(LABEL_SUGGESTIONS).get('it1:c')).toBeUndefined();
  });
});
