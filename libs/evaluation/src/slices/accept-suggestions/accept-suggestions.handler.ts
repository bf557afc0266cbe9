import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { DomainError } from '@diyml/core/pure';
import {
  type ImageCommand,
  type LabelSource,
  MAX_REGIONS_PER_IMAGE,
  resolveLabel,
  resolveLabels,
} from '@diyml/datasets';
import { ItemErrorDto } from '@diyml/datasets';
import { LabelReferencesProperty, RegionInputDto, toRegions } from '@diyml/datasets';
import { ImageWriter, type UserContext } from '@diyml/datasets';
import type { ProjectView } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { LabelSuggestionQueries } from '../../read-models/label-suggestions/label-suggestion-queries.js';
import type { LabelSuggestionView } from '../../read-models/label-suggestions/label-suggestion.view.js';
import { completedIteration } from '../suggest-labels/suggest-labels.handler.js';

export const MAX_REVIEW_ITEMS = 1000;
/** Detection: boxes (multilabel: labels) at least this probable are accepted when no `regions` (`labels`) are sent. */
export const DEFAULT_ACCEPTED_PROBABILITY = 0.5;

export class AcceptSuggestionItemDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  imageId: string;

  @ApiPropertyOptional({
    description: 'Classification: accept this label (name or id) instead of the most probable suggestion.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label?: string;

  @LabelReferencesProperty('Multilabel: accept these labels (names or ids) instead of the suggested ones.')
  labels?: string[];

  @ApiPropertyOptional({
    type: [RegionInputDto],
    description: 'Detection: accept these boxes instead of the suggested ones.',
  })
  // Absent, the suggested boxes are taken; null is not a list of boxes.
  @ValidateIf((_, value) => value !== undefined)
  @IsArray()
  @ArrayMaxSize(MAX_REGIONS_PER_IMAGE)
  @ValidateNested({ each: true })
  @Type(() => RegionInputDto)
  regions?: RegionInputDto[];
}

export class AcceptSuggestionsDto {
  @ApiProperty({ type: [AcceptSuggestionItemDto], minItems: 1, maxItems: MAX_REVIEW_ITEMS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_REVIEW_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => AcceptSuggestionItemDto)
  items: AcceptSuggestionItemDto[];

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 1,
    default: DEFAULT_ACCEPTED_PROBABILITY,
    description: 'Detection: suggested boxes at least this probable are accepted; multilabel: suggested labels.',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  minProbability?: number;
}

export class AcceptSuggestionResultDto {
  @ApiProperty({ format: 'uuid' }) imageId: string;
  @ApiProperty({ enum: ['accepted', 'failed'] }) status: 'accepted' | 'failed';
  @ApiPropertyOptional({ description: 'Whether the label or boxes were changed before accepting.' }) edited?: boolean;
  @ApiPropertyOptional({ type: ItemErrorDto }) error?: ItemErrorDto;
}

export class AcceptSuggestionsResultDto {
  @ApiProperty({ type: [AcceptSuggestionResultDto], description: 'One per item, in the order sent.' })
  items: AcceptSuggestionResultDto[];
  @ApiProperty() accepted: number;
  @ApiProperty() failed: number;
}

export class AcceptSuggestions extends Command<AcceptSuggestionsResultDto> {
  constructor(
    readonly projectId: string,
    readonly iterationId: string,
    readonly body: AcceptSuggestionsDto,
    readonly context: UserContext,
  ) {
    super();
  }
}

/**
 * Turns pending suggestions, as suggested or edited, into ordinary labeling events (ImageLabeled / ImageRegionsSet)
 * whose source names the iteration. Each item succeeds or fails on its own.
 */
@CommandHandler(AcceptSuggestions)
export class AcceptSuggestionsHandler implements ICommandHandler<AcceptSuggestions> {
  constructor(
    private readonly writer: ImageWriter,
    private readonly readStore: ReadStore,
    private readonly suggestions: LabelSuggestionQueries,
  ) {}

  async execute({ projectId, iterationId, body, context }: AcceptSuggestions): Promise<AcceptSuggestionsResultDto> {
    const project = await this.writer.project(projectId, context);
    await completedIteration(this.readStore, projectId, iterationId);
    const minProbability = body.minProbability ?? DEFAULT_ACCEPTED_PROBABILITY;
    const items: AcceptSuggestionResultDto[] = [];
    let lastPosition = -1;
    for (const item of body.items) {
      try {
        const suggestion = await pendingSuggestion(this.suggestions, projectId, iterationId, item.imageId);
        const { command, edited } = acceptance(project, suggestion, item, minProbability);
        const written = await this.writer.execute(
          project,
          item.imageId,
          context,
          (projectContext) => [{ ...command, project: projectContext } as ImageCommand],
          {
            wait: false,
          },
        );
        lastPosition = Math.max(lastPosition, written.position);
        items.push({ imageId: item.imageId, status: 'accepted', edited });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        items.push({ imageId: item.imageId, status: 'failed', error: { code: error.code, message: error.message } });
      }
    }
    await this.writer.waitFor(lastPosition);
    const accepted = items.filter((item) => item.status === 'accepted').length;
    return { items, accepted, failed: items.length - accepted };
  }
}

/** SUGGESTION_NOT_FOUND (404) without a suggestion of this iteration; SUGGESTION_NOT_PENDING (409) once decided. */
export async function pendingSuggestion(
  suggestions: LabelSuggestionQueries,
  projectId: string,
  iterationId: string,
  imageId: string,
): Promise<LabelSuggestionView> {
  const suggestion = await suggestions.get(iterationId, imageId);
  if (!suggestion || suggestion.projectId !== projectId) {
    throw DomainError.notFound('SUGGESTION_NOT_FOUND', `This iteration has suggested nothing for image ${imageId}.`);
  }
  if (suggestion.status !== 'pending') {
    throw DomainError.conflict(
      'SUGGESTION_NOT_PENDING',
      `The suggestion for image ${imageId} is already ${suggestion.status}.`,
      { status: suggestion.status },
    );
  }
  return suggestion;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Acceptance = {
  command: DistributiveOmit<
    Extract<ImageCommand, { type: 'LabelImage' | 'SetImageLabels' | 'SetImageRegions' }>,
    'project'
  >;
  edited: boolean;
};

function acceptance(
  project: ProjectView,
  suggestion: LabelSuggestionView,
  item: AcceptSuggestionItemDto,
  minProbability: number,
): Acceptance {
  if (suggestion.task === 'multilabel') {
    if (item.label !== undefined || item.regions !== undefined)
      throw DomainError.validation('EDIT_DOES_NOT_FIT', 'A multilabel suggestion is edited with `labels`.');
    const edited = item.labels !== undefined;
    const labelIds = edited
      ? resolveLabels(project.labels, item.labels!).map((label) => label.id)
      : suggestion.predictions.filter((p) => p.probability >= minProbability).map((p) => p.labelId);
    if (labelIds.length === 0) {
      throw DomainError.unprocessable(
        'NOTHING_TO_ACCEPT',
        `No suggested label is at least ${minProbability} probable: lower minProbability, send \`labels\`, or reject it.`,
      );
    }
    const source: LabelSource = { kind: 'suggestion', iterationId: suggestion.iterationId, edited };
    return { command: { type: 'SetImageLabels', labelIds, source }, edited };
  }
  const classification = suggestion.task === 'classification';
  if (item.labels !== undefined) {
    throw DomainError.validation(
      'EDIT_DOES_NOT_FIT',
      `A ${suggestion.task} suggestion is edited with ${classification ? '`label`' : '`regions`'}, not \`labels\`.`,
    );
  }
  if ((classification && item.regions !== undefined) || (!classification && item.label !== undefined)) {
    throw DomainError.validation(
      'EDIT_DOES_NOT_FIT',
      classification
        ? 'A classification suggestion is edited with `label`, not `regions`.'
        : 'A detection suggestion is edited with `regions`, not `label`.',
    );
  }
  if (classification) {
    const edited = item.label !== undefined;
    const labelId = edited ? resolveLabel(project.labels, item.label!).id : suggestion.predictions[0]?.labelId;
    if (!labelId)
      throw DomainError.unprocessable(
        'NOTHING_TO_ACCEPT',
        'The model suggested no label for this image: send `label`, or reject it.',
      );
    const source: LabelSource = { kind: 'suggestion', iterationId: suggestion.iterationId, edited };
    return { command: { type: 'LabelImage', labelId, source }, edited };
  }
  const edited = item.regions !== undefined;
  const regions = edited
    ? toRegions(project.labels, item.regions!)
    : suggestion.predictions
        .filter((p) => p.box && p.probability >= minProbability)
        .map((p) => ({ labelId: p.labelId, ...p.box! }));
  if (regions.length === 0) {
    throw DomainError.unprocessable(
      'NOTHING_TO_ACCEPT',
      `No suggested box is at least ${minProbability} probable: lower minProbability, send \`regions\`, or reject it.`,
    );
  }
  const source: LabelSource = { kind: 'suggestion', iterationId: suggestion.iterationId, edited };
  return { command: { type: 'SetImageRegions', regions, source }, edited };
}
