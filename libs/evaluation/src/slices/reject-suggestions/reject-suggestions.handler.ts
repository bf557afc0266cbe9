import { ApiProperty } from '@nestjs/swagger';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsUUID } from 'class-validator';
import { DomainError, isDomainError, type RequestContext } from '@diyml/core';
import { CommandPipeline } from '@diyml/event-store';
import { ProjectAccess } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { labelSuggestionsDecider } from '../../domain/label-suggestions.decider.js';
import { labelSuggestionsStream } from '../../domain/label-suggestions.events.js';
import { LabelSuggestionQueries } from '../../read-models/label-suggestions/label-suggestion-queries.js';
import { MAX_REVIEW_ITEMS, pendingSuggestion } from '../accept-suggestions/accept-suggestions.handler.js';
import { completedIteration } from '../suggest-labels/suggest-labels.handler.js';

export class RejectSuggestionsDto {
  @ApiProperty({
    type: [String],
    format: 'uuid',
    minItems: 1,
    maxItems: MAX_REVIEW_ITEMS,
    description: 'Images whose suggestions are wrong.',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_REVIEW_ITEMS)
  @IsUUID('all', { each: true })
  imageIds: string[];
}

export class RejectSuggestionsResultDto {
  @ApiProperty({ description: 'Suggestions rejected by this request (already rejected ones are not counted again).' })
  rejected: number;
}

export class RejectSuggestions extends Command<RejectSuggestionsResultDto> {
  constructor(
    readonly projectId: string,
    readonly iterationId: string,
    readonly imageIds: string[],
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

/**
 * Records LabelSuggestionsRejected for the images, all or nothing: the iteration does not suggest labels for
 * them again. Every image needs a pending (or already rejected) suggestion of this iteration.
 */
@CommandHandler(RejectSuggestions)
export class RejectSuggestionsHandler implements ICommandHandler<RejectSuggestions> {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly readStore: ReadStore,
    private readonly suggestions: LabelSuggestionQueries,
    private readonly pipeline: CommandPipeline,
  ) {}

  async execute({ projectId, iterationId, imageIds, context }: RejectSuggestions): Promise<RejectSuggestionsResultDto> {
    await this.projects.getOwned(projectId, context.userId);
    await completedIteration(this.readStore, projectId, iterationId);
    const problems: { imageId: string; code: string; message: string }[] = [];
    for (const imageId of new Set(imageIds)) {
      try {
        await pendingSuggestion(this.suggestions, projectId, iterationId, imageId);
      } catch (error) {
        if (
          isDomainError(error, 'SUGGESTION_NOT_PENDING') &&
          (error.details as { status: string }).status === 'rejected'
        )
          continue;
        if (!(error instanceof DomainError)) throw error;
        problems.push({ imageId, code: error.code, message: error.message });
      }
    }
    if (problems.length) {
      const notFound = problems.every((problem) => problem.code === 'SUGGESTION_NOT_FOUND');
      const message = `Nothing was rejected: ${problems.length} image(s) have no pending suggestion from this iteration.`;
      throw notFound
        ? DomainError.notFound('SUGGESTION_NOT_FOUND', message, { images: problems })
        : DomainError.conflict('SUGGESTION_NOT_PENDING', message, { images: problems });
    }
    const result = await this.pipeline.on(labelSuggestionsStream(iterationId), labelSuggestionsDecider).run({
      context,
      command: (_, metadata) => ({ type: 'RejectLabelSuggestions', imageIds, metadata }),
    });
    const rejected = result.events.reduce(
      (count, event) => count + (event.type === 'LabelSuggestionsRejected' ? event.data.imageIds.length : 0),
      0,
    );
    return { rejected };
  }
}
