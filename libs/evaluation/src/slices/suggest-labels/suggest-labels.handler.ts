import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError, IdGenerator, isDomainError, type RequestContext } from '@diyml/core';
import { DatasetQueries, type ImageView } from '@diyml/datasets';
import { CommandPipeline, EventStore, loadStream } from '@diyml/event-store';
import { ProjectAccess } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { ITERATIONS, type IterationView } from '@diyml/training';
import { labelSuggestionsDecider } from '../../domain/label-suggestions.decider.js';
import { labelSuggestionsStream } from '../../domain/label-suggestions.events.js';
import { LabelSuggestionQueries } from '../../read-models/label-suggestions/label-suggestion-queries.js';
import type { SuggestionRunView } from '../../read-models/label-suggestions/label-suggestion.view.js';

/** Images one run suggests labels for: a run's suggestions are one event, so they stay a bounded size. */
export const MAX_SUGGESTION_IMAGES = 1000;

export interface SkippedImage {
  imageId: string;
  reason: 'LABELED' | 'REJECTED';
}

export class SuggestLabels extends Command<{ run: SuggestionRunView; skipped: SkippedImage[] }> {
  constructor(
    readonly projectId: string,
    readonly iterationId: string,
    /** The images to suggest labels for; undefined: the project's unlabeled images without a pending suggestion. */
    readonly imageIds: string[] | undefined,
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

/**
 * Picks the unlabeled images to suggest labels for and appends LabelSuggestionsRequested with the iteration's
 * model; a reactor queues the job that predicts them off the event loop.
 */
@CommandHandler(SuggestLabels)
export class SuggestLabelsHandler implements ICommandHandler<SuggestLabels> {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly readStore: ReadStore,
    private readonly datasets: DatasetQueries,
    private readonly suggestions: LabelSuggestionQueries,
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly ids: IdGenerator,
  ) {}

  async execute({
    projectId,
    iterationId,
    imageIds,
    context,
  }: SuggestLabels): Promise<{ run: SuggestionRunView; skipped: SkippedImage[] }> {
    await this.projects.getOwned(projectId, context.userId);
    const iteration = await completedIteration(this.readStore, projectId, iterationId);
    const stream = labelSuggestionsStream(iterationId);
    const { state } = await loadStream(this.events, stream, labelSuggestionsDecider);
    const skipped: SkippedImage[] = [];
    let images: ImageView[];
    if (imageIds) {
      images = [];
      for (const image of await this.named(projectId, imageIds)) {
        if (image.labeled) skipped.push({ imageId: image.id, reason: 'LABELED' });
        else if (state.rejected[image.id]) skipped.push({ imageId: image.id, reason: 'REJECTED' });
        else images.push(image);
      }
    } else {
      const pending = new Set(
        (await this.suggestions.findAll(projectId, iterationId, { status: 'pending' })).map(
          (suggestion) => suggestion.imageId,
        ),
      );
      images = (await this.datasets.listAll(projectId))
        .filter((image) => !image.labeled && !state.rejected[image.id] && !pending.has(image.id))
        .slice(0, MAX_SUGGESTION_IMAGES);
    }
    if (images.length === 0) {
      throw DomainError.unprocessable(
        'NO_IMAGES_TO_SUGGEST',
        imageIds
          ? 'None of these images can get suggestions from this iteration: they are labeled, or their suggestions were rejected.'
          : 'The project has no unlabeled image without a pending or rejected suggestion from this iteration.',
        { skipped },
      );
    }
    const runId = this.ids.newId();
    await this.pipeline.on(stream, labelSuggestionsDecider).run({
      context,
      command: (_, metadata) => ({
        type: 'RequestLabelSuggestions',
        projectId,
        iterationId,
        runId,
        spec: {
          task: iteration.task,
          labels: iteration.labels,
          modelSha256: iteration.model.sha256,
          images: images.map((image) => ({ imageId: image.id, sha256: image.sha256 })),
        },
        metadata,
      }),
    });
    return { run: await this.suggestions.run(projectId, iterationId, runId), skipped };
  }

  /** The named images, each once; IMAGE_NOT_FOUND (404) naming every one that is not in this project. */
  private async named(projectId: string, imageIds: string[]): Promise<ImageView[]> {
    const found: ImageView[] = [];
    const missing: string[] = [];
    for (const imageId of new Set(imageIds)) {
      try {
        found.push(await this.datasets.get(projectId, imageId));
      } catch (error) {
        if (!isDomainError(error, 'IMAGE_NOT_FOUND')) throw error;
        missing.push(imageId);
      }
    }
    if (missing.length) {
      throw DomainError.notFound(
        'IMAGE_NOT_FOUND',
        `${missing.length} image(s) do not exist in this project: ${missing.join(', ')}.`,
        { imageIds: missing },
      );
    }
    return found;
  }
}

/** ITERATION_NOT_FOUND (404) outside the project; ITERATION_NOT_COMPLETED (409) without a model. */
export async function completedIteration(
  readStore: ReadStore,
  projectId: string,
  iterationId: string,
): Promise<IterationView & { model: { sha256: string } }> {
  const iteration = await readStore.collection<IterationView>(ITERATIONS).get(iterationId);
  if (!iteration || iteration.projectId !== projectId) {
    throw DomainError.notFound('ITERATION_NOT_FOUND', `Iteration ${iterationId} does not exist in this project.`);
  }
  if (iteration.status !== 'completed' || !iteration.model) {
    throw DomainError.conflict(
      'ITERATION_NOT_COMPLETED',
      `The iteration is ${iteration.status}: only a completed iteration suggests labels.`,
    );
  }
  return iteration as IterationView & { model: { sha256: string } };
}
