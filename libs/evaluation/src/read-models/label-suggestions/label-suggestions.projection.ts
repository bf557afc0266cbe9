import { Injectable } from '@nestjs/common';
import type { ImageLabeled, ImageRegionsSet, ImageRemoved } from '@diyml/datasets';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore, updateStreamDocument } from '@diyml/read-store/pure';
import { LABEL_SUGGESTIONS_EVENT_TYPES, type LabelSuggestionsEvent } from '../../domain/label-suggestions.events.js';
import {
  LABEL_SUGGESTION_RUNS,
  LABEL_SUGGESTIONS,
  type LabelSuggestionView,
  suggestionId,
  type SuggestionRunView,
} from './label-suggestion.view.js';

type ImageEvent = ImageLabeled | ImageRegionsSet | ImageRemoved;

/**
 * Suggestion runs, and the suggestions of each iteration per image with what became of them: accepted (an
 * ImageLabeled/ImageRegionsSet whose source is the suggestion), rejected, or superseded (labeled another way, removed).
 */
@ReadModelProjection()
@Injectable()
export class LabelSuggestionsProjection implements Projection<LabelSuggestionsEvent | ImageEvent> {
  readonly name = 'label-suggestions';
  readonly version = 1;
  readonly collections = [LABEL_SUGGESTIONS, LABEL_SUGGESTION_RUNS];
  readonly eventTypes = [...LABEL_SUGGESTIONS_EVENT_TYPES, 'ImageLabeled', 'ImageRegionsSet', 'ImageRemoved'] as const;

  async apply(event: Recorded<LabelSuggestionsEvent | ImageEvent>, store: ReadStore): Promise<void> {
    const suggestions = store.collection<LabelSuggestionView>(LABEL_SUGGESTIONS);
    const runs = store.collection<SuggestionRunView>(LABEL_SUGGESTION_RUNS);
    const at = event.metadata.at;
    switch (event.type) {
      case 'LabelSuggestionsRequested': {
        const data = event.data;
        await runs.apply(data.runId, event.position, () => ({
          id: data.runId,
          projectId: data.projectId,
          iterationId: data.iterationId,
          status: 'requested',
          task: data.task,
          imageIds: data.images.map((image) => image.imageId),
          suggestedCount: null,
          error: null,
          requestedAt: data.requestedAt,
          completedAt: null,
          durationMs: null,
          revision: event.revision,
        }));
        return;
      }
      case 'LabelSuggestionsComputed': {
        const data = event.data;
        // The run's document was written by its LabelSuggestionsRequested, earlier in this stream.
        const run = await runs.get(data.runId);
        if (!run) return;
        await updateStreamDocument(runs, data.runId, event, () => ({
          status: 'completed' as const,
          suggestedCount: data.suggestions.length,
          completedAt: data.computedAt,
          durationMs: data.durationMs,
        }));
        for (const suggestion of data.suggestions) {
          await suggestions.apply(suggestionId(data.iterationId, suggestion.imageId), event.position, () => ({
            id: suggestionId(data.iterationId, suggestion.imageId),
            projectId: data.projectId,
            iterationId: data.iterationId,
            imageId: suggestion.imageId,
            runId: data.runId,
            task: run.task,
            predictions: suggestion.predictions,
            labelIds: [...new Set(suggestion.predictions.map((p) => p.labelId))].sort(),
            topProbability: suggestion.predictions[0]?.probability ?? 0,
            uncertainty: suggestion.uncertainty,
            status: 'pending',
            suggestedAt: data.computedAt,
            decidedAt: null,
          }));
        }
        return;
      }
      case 'LabelSuggestionsFailed':
        await updateStreamDocument(runs, event.data.runId, event, () => ({
          status: 'failed' as const,
          error: { code: event.data.code, reason: event.data.reason },
          completedAt: event.data.failedAt,
        }));
        return;
      case 'LabelSuggestionsRejected':
        for (const imageId of event.data.imageIds) {
          await suggestions.apply(suggestionId(event.data.iterationId, imageId), event.position, (view) =>
            view ? { ...view, status: 'rejected', decidedAt: event.data.rejectedAt } : null,
          );
        }
        return;
      case 'ImageLabeled':
      case 'ImageRegionsSet': {
        const { imageId, source } = event.data;
        const labeled = event.type === 'ImageLabeled' ? event.data.labelId !== null : event.data.regions.length > 0;
        for (const view of await suggestions.findAll({ imageId })) {
          const accepted = source?.kind === 'suggestion' && source.iterationId === view.iterationId;
          if (view.status !== 'pending' || (!accepted && !labeled)) continue;
          await suggestions.apply(view.id, event.position, (current) =>
            current ? { ...current, status: accepted ? 'accepted' : 'superseded', decidedAt: at } : null,
          );
        }
        return;
      }
      case 'ImageRemoved':
        for (const view of await suggestions.findAll({ imageId: event.data.imageId })) {
          await suggestions.apply(view.id, event.position, () => null);
        }
        return;
    }
  }
}
