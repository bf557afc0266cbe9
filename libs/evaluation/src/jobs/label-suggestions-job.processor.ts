import { Injectable } from '@nestjs/common';
import type { CommandMetadata } from '@diyml/core/pure';
import { imageDecider, imageStream } from '@diyml/datasets';
import { CommandPipeline, EventStore, loadStream } from '@diyml/event-store';
import { type JobProcessor, JobProcessorProvider, onBehalfOf, UnrecoverableJobError } from '@diyml/jobs';
import { imageSuggestionOf, MIN_SUGGESTED_BOX_PROBABILITY } from '../domain/image-suggestion.js';
import { type LabelSuggestionsCommand, labelSuggestionsDecider } from '../domain/label-suggestions.decider.js';
import { type LabelSuggestionsRequested, labelSuggestionsStream } from '../domain/label-suggestions.events.js';
import { TestRunInputError } from '../worker/test-run-thread.js';
import { IterationPredictor } from './iteration-predictor.js';

export const LABEL_SUGGESTIONS_QUEUE = 'label-suggestions';

export interface LabelSuggestionsJobPayload {
  v: 1;
  projectId: string;
  iterationId: string;
  runId: string;
}

type Metadata = Omit<CommandMetadata, 'now'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Computes one suggestion run: the iteration's model predicts the run's images on a worker thread, and the
 * suggestions are recorded as LabelSuggestionsComputed (or LabelSuggestionsFailed). A finished run is left alone.
 */
@JobProcessorProvider()
@Injectable()
export class LabelSuggestionsJobProcessor implements JobProcessor<LabelSuggestionsJobPayload> {
  readonly queue = LABEL_SUGGESTIONS_QUEUE;

  constructor(
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly predictor: IterationPredictor,
  ) {}

  async process({ projectId, iterationId, runId }: LabelSuggestionsJobPayload): Promise<void> {
    const stream = labelSuggestionsStream(iterationId);
    const { state } = await loadStream(this.events, stream, labelSuggestionsDecider);
    if (state.runs[runId] !== 'requested') return;
    const request = await this.requestOf(stream, runId);
    const started = Date.now();
    const { task, labels } = request.data;
    const options =
      task !== 'detection'
        ? { threshold: 0, maxResults: labels.length }
        : { threshold: MIN_SUGGESTED_BOX_PROBABILITY, maxResults: 100 };
    let outcome;
    try {
      outcome = await this.predictor.predict({
        projectId,
        iterationId,
        modelSha256: request.data.modelSha256,
        images: request.data.images.map((image) => image.sha256),
        options,
        requestedBy: onBehalfOf(request),
      });
    } catch (error) {
      if (error instanceof TestRunInputError) throw new UnrecoverableJobError(error.message);
      throw error;
    }
    const labelIds = labels.map((label) => label.id);
    const suggestions = [];
    for (const [index, image] of request.data.images.entries()) {
      // An image removed while the model ran gets no suggestion.
      if ((await loadStream(this.events, imageStream(image.imageId), imageDecider)).state.status !== 'active') continue;
      suggestions.push(imageSuggestionOf(image.imageId, task, labelIds, outcome.predictions[index]));
    }
    await this.decide(
      stream,
      {
        type: 'CompleteLabelSuggestions',
        runId,
        suggestions,
        backend: outcome.backend,
        durationMs: Date.now() - started,
      },
      onBehalfOf(request),
    );
  }

  async failed({ iterationId, runId }: LabelSuggestionsJobPayload, error: Error): Promise<void> {
    const code = error instanceof UnrecoverableJobError ? 'INVALID_MODEL' : 'SUGGESTIONS_FAILED';
    const stream = labelSuggestionsStream(iterationId);
    await this.decide(
      stream,
      { type: 'FailLabelSuggestions', runId, code, reason: error.message },
      onBehalfOf(await this.requestOf(stream, runId)),
    );
  }

  private async requestOf(stream: string, runId: string) {
    const recorded = await this.events.readStream(stream);
    const request = recorded.find(
      (event) => event.type === 'LabelSuggestionsRequested' && (event.data as { runId: string }).runId === runId,
    );
    if (!request) throw new UnrecoverableJobError(`suggestion run ${runId} was never requested`);
    return request as typeof request & LabelSuggestionsRequested;
  }

  private decide(stream: string, command: DistributiveOmit<LabelSuggestionsCommand, 'metadata'>, metadata: Metadata) {
    return this.pipeline.on(stream, labelSuggestionsDecider).run({
      context: metadata,
      command: (_, full) => ({ ...command, metadata: full }) as LabelSuggestionsCommand,
      waitForReadModels: false,
    });
  }
}
