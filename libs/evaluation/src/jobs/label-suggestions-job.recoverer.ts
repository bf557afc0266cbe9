import { Injectable } from '@nestjs/common';
import { CommandPipeline, EventStore, loadStream } from '@diyml/event-store';
import { JobQueue, type LostJobRecoverer, onBehalfOf, RecoversLostJobs } from '@diyml/jobs';
import { ReadStore } from '@diyml/read-store';
import { labelSuggestionsDecider } from '../domain/label-suggestions.decider.js';
import { labelSuggestionsStream } from '../domain/label-suggestions.events.js';
import {
  LABEL_SUGGESTION_RUNS,
  type SuggestionRunView,
} from '../read-models/label-suggestions/label-suggestion.view.js';
import { LABEL_SUGGESTIONS_QUEUE, type LabelSuggestionsJobPayload } from './label-suggestions-job.processor.js';

/**
 * Suggestion runs still requested whose job was lost (see LostJobsSweeper). The job is idempotent by run id: it does
 * nothing for a finished run, and has the same model predict the run's frozen images otherwise.
 */
@RecoversLostJobs()
@Injectable()
export class LostLabelSuggestionsJobsRecoverer implements LostJobRecoverer<SuggestionRunView> {
  readonly kind = 'label-suggestion runs';
  readonly queue = LABEL_SUGGESTIONS_QUEUE;

  constructor(
    private readonly jobs: JobQueue,
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly readStore: ReadStore,
  ) {}

  unfinished(): Promise<SuggestionRunView[]> {
    return this.readStore.collection<SuggestionRunView>(LABEL_SUGGESTION_RUNS).findAll({ status: 'requested' });
  }

  async requeue({ id, projectId, iterationId }: SuggestionRunView): Promise<boolean> {
    const { state } = await loadStream(this.events, labelSuggestionsStream(iterationId), labelSuggestionsDecider);
    if (state.runs[id] !== 'requested') return false;
    const payload: LabelSuggestionsJobPayload = { v: 1, projectId, iterationId, runId: id };
    await this.jobs.enqueue({ queue: LABEL_SUGGESTIONS_QUEUE, id, payload });
    return true;
  }

  async fail({ id, iterationId }: SuggestionRunView): Promise<boolean> {
    const stream = labelSuggestionsStream(iterationId);
    const request = (await this.events.readStream(stream)).find(
      (event) => event.type === 'LabelSuggestionsRequested' && (event.data as { runId: string }).runId === id,
    );
    if (!request) return false;
    // Failing a run that finished meanwhile is a no-op of the decider.
    const { events } = await this.pipeline.on(stream, labelSuggestionsDecider).run({
      context: onBehalfOf(request),
      command: (_, metadata) => ({
        type: 'FailLabelSuggestions',
        runId: id,
        code: 'JOB_LOST',
        reason:
          'Its job ended without its outcome being recorded (the database did not answer then): ask for suggestions again.',
        metadata,
      }),
      waitForReadModels: false,
    });
    return events.length > 0;
  }
}
