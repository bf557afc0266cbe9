import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { RunErrorDto } from './test-run.dto.js';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { PageQueryDto } from '@diyml/core';
import type { LabelView } from '@diyml/projects';
import type { LabelSuggestionView, SuggestionRunView } from '../read-models/label-suggestions/label-suggestion.view.js';
import { MAX_SUGGESTION_IMAGES, type SkippedImage } from './suggest-labels/suggest-labels.handler.js';

export class SuggestLabelsDto {
  @ApiPropertyOptional({
    type: [String],
    format: 'uuid',
    maxItems: MAX_SUGGESTION_IMAGES,
    description:
      `Images to suggest labels for. Without it: the project's unlabeled images that have no pending or rejected suggestion ` +
      `from this iteration, the oldest ${MAX_SUGGESTION_IMAGES} (call again for more).`,
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SUGGESTION_IMAGES)
  @IsUUID('all', { each: true })
  imageIds?: string[];
}

export class SkippedImageDto {
  @ApiProperty({ format: 'uuid' }) imageId: string;
  @ApiProperty({
    enum: ['LABELED', 'REJECTED'],
    description:
      'LABELED: the image already has a label or boxes; REJECTED: its suggestion from this iteration was rejected.',
  })
  reason: SkippedImage['reason'];
}

export class SuggestionRunDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ format: 'uuid' }) iterationId: string;
  @ApiProperty({ enum: ['requested', 'completed', 'failed'] }) status: string;
  @ApiProperty({ description: 'Images the model predicts in this run.' }) imageCount: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Once completed: images that got a suggestion.' })
  suggestedCount: number | null;
  @ApiPropertyOptional({ type: RunErrorDto, description: 'Why it failed.' }) error?: RunErrorDto;
  @ApiProperty({ format: 'date-time' }) requestedAt: string;
  @ApiPropertyOptional({ format: 'date-time' }) completedAt?: string;
  @ApiPropertyOptional() durationMs?: number;
  @ApiPropertyOptional({ type: [SkippedImageDto], description: 'On request: named images left out, and why.' })
  skipped?: SkippedImageDto[];
}

export class SuggestedBoxDto {
  @ApiProperty({ example: 0.1 }) x: number;
  @ApiProperty({ example: 0.2 }) y: number;
  @ApiProperty({ example: 0.3 }) width: number;
  @ApiProperty({ example: 0.4 }) height: number;
}

export class SuggestedLabelDto {
  @ApiProperty({ format: 'uuid' }) labelId: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The label name; null if the label was removed from the project.',
  })
  label: string | null;
  @ApiProperty({ example: 0.93 }) probability: number;
  @ApiPropertyOptional({ type: SuggestedBoxDto, description: 'Detection: the box, in fractions of the image.' })
  box?: SuggestedBoxDto;
}

export class LabelSuggestionDto {
  @ApiProperty({ format: 'uuid' }) imageId: string;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'IMG_0042.jpg',
    description: "The image's file name; null if the image was just removed.",
  })
  filename: string | null;
  @ApiProperty({ format: 'uuid' }) iterationId: string;
  @ApiProperty({ format: 'uuid' }) runId: string;
  @ApiProperty({
    enum: ['pending', 'accepted', 'rejected', 'superseded'],
    description: 'superseded: the image was labeled another way, or removed.',
  })
  status: string;
  @ApiProperty({
    type: [SuggestedLabelDto],
    description: 'Most probable first: labels (classification) or boxes (detection).',
  })
  predictions: SuggestedLabelDto[];
  @ApiProperty({ description: 'Entropy of the prediction: higher means the model is less sure.' }) uncertainty: number;
  @ApiProperty({ format: 'date-time' }) suggestedAt: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) decidedAt: string | null;
}

export class LabelSuggestionPageDto {
  @ApiProperty({ type: [LabelSuggestionDto] }) items: LabelSuggestionDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class ListSuggestionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    description: 'Only suggestions of this label (name or id); the probability range then applies to it.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label?: string;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 1,
    description: 'Lowest probability (of `label`, or of the most probable suggestion).',
  })
  @IsOptional()
  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  minProbability?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 1,
    description: 'Highest probability (of `label`, or of the most probable suggestion).',
  })
  @IsOptional()
  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  maxProbability?: number;

  @ApiPropertyOptional({
    enum: ['pending', 'accepted', 'rejected', 'superseded'],
    default: 'pending',
    description: 'Only suggestions in this state.',
  })
  @IsOptional()
  @IsIn(['pending', 'accepted', 'rejected', 'superseded'])
  status?: 'pending' | 'accepted' | 'rejected' | 'superseded';
}

export function toSuggestionRunDto(view: SuggestionRunView, skipped?: SkippedImage[]): SuggestionRunDto {
  const dto: SuggestionRunDto = {
    id: view.id,
    projectId: view.projectId,
    iterationId: view.iterationId,
    status: view.status,
    imageCount: view.imageIds.length,
    suggestedCount: view.suggestedCount,
    requestedAt: view.requestedAt,
  };
  if (view.error) dto.error = view.error;
  if (view.completedAt) dto.completedAt = view.completedAt;
  if (view.durationMs !== null) dto.durationMs = view.durationMs;
  if (skipped) dto.skipped = skipped;
  return dto;
}

export function toLabelSuggestionDto(
  view: LabelSuggestionView,
  labels: readonly LabelView[],
  filename: string | null,
): LabelSuggestionDto {
  const names = new Map(labels.map((label) => [label.id, label.name]));
  return {
    imageId: view.imageId,
    filename,
    iterationId: view.iterationId,
    runId: view.runId,
    status: view.status,
    predictions: view.predictions.map(({ labelId, probability, box }) => ({
      labelId,
      label: names.get(labelId) ?? null,
      probability,
      ...(box ? { box } : {}),
    })),
    uncertainty: view.uncertainty,
    suggestedAt: view.suggestedAt,
    decidedAt: view.decidedAt,
  };
}
