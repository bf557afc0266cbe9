import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { MAX_LABELS_PER_IMAGE } from '../domain/image.decider.js';

/**
 * An optional `labels` field of a request: whole-image labels by name or id, at most MAX_LABELS_PER_IMAGE. Left out
 * is fine; null is not a list of labels (400, where `[]` untags).
 */
export function LabelReferencesProperty(description: string, example?: string[]): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: [String], maxItems: MAX_LABELS_PER_IMAGE, description, example }),
    ValidateIf((_, value) => value !== undefined),
    IsArray(),
    ArrayMaxSize(MAX_LABELS_PER_IMAGE),
    IsString({ each: true }),
    MinLength(1, { each: true }),
    MaxLength(100, { each: true }),
  );
}
