import { Injectable } from '@nestjs/common';
import { DomainError, type Page } from '@diyml/core';
import { decodeCursor, encodeCursor, ReadStore } from '@diyml/read-store';
import {
  LABEL_SUGGESTION_RUNS,
  LABEL_SUGGESTIONS,
  type LabelSuggestionView,
  suggestionId,
  type SuggestionRunView,
  type SuggestionStatus,
} from './label-suggestion.view.js';

export interface SuggestionFilter {
  status: SuggestionStatus;
  /** Only suggestions of this label (a project label id). */
  labelId?: string;
  /** Probability range of the filtered label's suggestion, or of the most probable one without a label. */
  minProbability?: number;
  maxProbability?: number;
}

@Injectable()
export class LabelSuggestionQueries {
  constructor(private readonly readStore: ReadStore) {}

  /** SUGGESTION_RUN_NOT_FOUND (404) for an unknown id or one of another iteration. */
  async run(projectId: string, iterationId: string, runId: string): Promise<SuggestionRunView> {
    const run = await this.readStore.collection<SuggestionRunView>(LABEL_SUGGESTION_RUNS).get(runId);
    if (!run || run.projectId !== projectId || run.iterationId !== iterationId) {
      throw DomainError.notFound(
        'SUGGESTION_RUN_NOT_FOUND',
        `Suggestion run ${runId} does not exist for this iteration.`,
      );
    }
    return run;
  }

  get(iterationId: string, imageId: string): Promise<LabelSuggestionView | undefined> {
    return this.readStore.collection<LabelSuggestionView>(LABEL_SUGGESTIONS).get(suggestionId(iterationId, imageId));
  }

  /** Every suggestion of the iteration that passes the filter, most probable first. */
  async findAll(projectId: string, iterationId: string, filter: SuggestionFilter): Promise<LabelSuggestionView[]> {
    const { status, labelId, minProbability = 0, maxProbability = 1 } = filter;
    const candidates = await this.readStore
      .collection<LabelSuggestionView>(LABEL_SUGGESTIONS)
      .findAll(
        labelId === undefined
          ? { projectId, iterationId, status }
          : { projectId, iterationId, status, labelIds: labelId },
      );
    return candidates
      .filter((view) => {
        const probability = probabilityOf(view, labelId);
        return probability >= minProbability && probability <= maxProbability;
      })
      .sort((a, b) => probabilityOf(b, labelId) - probabilityOf(a, labelId) || a.id.localeCompare(b.id));
  }

  /** A page of findAll; the cursor is the probability and id of the last item shown. */
  async list(
    projectId: string,
    iterationId: string,
    filter: SuggestionFilter,
    page: { limit: number; cursor?: string },
  ): Promise<Page<LabelSuggestionView>> {
    let items = await this.findAll(projectId, iterationId, filter);
    if (page.cursor) {
      const [probability, id] = decodeCursor(page.cursor);
      items = items.filter((view) => {
        const value = probabilityOf(view, filter.labelId);
        return value < (probability as number) || (value === probability && view.id > id);
      });
    }
    const shown = items.slice(0, page.limit);
    const last = shown.at(-1);
    return {
      items: shown,
      nextCursor: items.length > page.limit && last ? encodeCursor(probabilityOf(last, filter.labelId), last.id) : null,
    };
  }
}

/** The highest probability suggested for the label, or of any label. */
export function probabilityOf(view: LabelSuggestionView, labelId?: string): number {
  const matching = labelId === undefined ? view.predictions : view.predictions.filter((p) => p.labelId === labelId);
  return matching.reduce((max, p) => Math.max(max, p.probability), 0);
}
