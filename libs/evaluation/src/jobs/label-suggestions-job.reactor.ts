import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { JobQueue } from '@diyml/jobs';
import { EventReactor, type Reactor } from '@diyml/read-store';
import type { LabelSuggestionsRequested } from '../domain/label-suggestions.events.js';
import { LABEL_SUGGESTIONS_QUEUE, type LabelSuggestionsJobPayload } from './label-suggestions-job.processor.js';

/** Turns LabelSuggestionsRequested into a job on the `label-suggestions` queue; the job id is the run id. */
@EventReactor()
@Injectable()
export class LabelSuggestionsJobReactor implements Reactor<LabelSuggestionsRequested> {
  readonly name = 'label-suggestions-job-reactor';
  readonly eventTypes = ['LabelSuggestionsRequested'] as const;

  constructor(private readonly jobs: JobQueue) {}

  async react(recorded: Recorded<LabelSuggestionsRequested>): Promise<void> {
    const { projectId, iterationId, runId } = recorded.data;
    const payload: LabelSuggestionsJobPayload = { v: 1, projectId, iterationId, runId };
    await this.jobs.enqueue({ queue: LABEL_SUGGESTIONS_QUEUE, id: runId, payload });
  }
}
