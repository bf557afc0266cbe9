import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsISO8601, IsNumber, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength } from 'class-validator';
import { PageQueryDto } from '@diyml/core';
import type { NamedLabel } from '../../read-models/stored-predictions/labels-by-iteration.js';
import type { StoredPredictionView } from '../../read-models/stored-predictions/stored-prediction.view.js';
import { PredictionDto } from '../predict/predict.controller.js';

const toIso = ({ value }: { value: unknown }) =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : value;

export class ListStoredPredictionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: "Only this deployment's predictions." })
  @IsOptional()
  @IsUUID()
  deploymentId?: string;

  @ApiPropertyOptional({
    example: 'cat',
    description:
      'Only predictions of this label (its probability is the one the range judges): its name now or its id, found in ' +
      'predictions made before it was renamed too; a name no label has now matches the predictions naming it.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label?: string;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 1,
    description: 'At least this probability (of `label`, else of the top prediction).',
  })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  @Max(1)
  minProbability?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 1,
    description: 'At most this probability (of `label`, else of the top prediction).',
  })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  @Max(1)
  maxProbability?: number;

  @ApiPropertyOptional({ format: 'date-time', description: 'Stored at or after.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 date-time' })
  @Transform(toIso)
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Stored before.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO-8601 date-time' })
  @Transform(toIso)
  to?: string;
}

export class StoredPredictionResultDto extends PredictionDto {
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description:
      "The project's label it is (the iteration's label of that name: `label` is its name then, and the label may " +
      'have been renamed since); null when the project no longer has it. Name corrections by this id.',
  })
  labelId: string | null;
}

export class StoredPredictionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) deploymentId: string;
  @ApiProperty({ format: 'uuid' }) iterationId: string;
  @ApiProperty({
    type: [StoredPredictionResultDto],
    description: 'As the prediction answered them, most probable first.',
  })
  predictions: StoredPredictionResultDto[];
  @ApiProperty({ example: '/v1/projects/…/predictions/…/image', description: 'The stored image.' }) imageUrl: string;
  @ApiProperty() imageBytes: number;
  @ApiProperty({ format: 'date-time' }) storedAt: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The user who called (a shared model or a personal token); null: the deployment key.',
  })
  callerId: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The dataset image it was promoted to.' })
  promotedImageId: string | null;
}

export class StoredPredictionPageDto {
  @ApiProperty({ type: [StoredPredictionDto] }) items: StoredPredictionDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

/** `labels`: the labels the view's iteration names (labelsByIteration); ids of labels the project still has. */
export function toStoredPredictionDto(
  view: StoredPredictionView,
  labels: readonly NamedLabel[],
  projectLabelIds: ReadonlySet<string>,
): StoredPredictionDto {
  const ids = new Map(labels.map((label) => [label.name, label.id]));
  return {
    id: view.id,
    deploymentId: view.deploymentId,
    iterationId: view.iterationId,
    predictions: view.predictions.map(({ label, probability, box }) => {
      const id = ids.get(label);
      const labelId = id !== undefined && projectLabelIds.has(id) ? id : null;
      return box ? { label, labelId, probability, box } : { label, labelId, probability };
    }),
    imageUrl: `/v1/projects/${view.projectId}/predictions/${view.id}/image`,
    imageBytes: view.imageBytes,
    storedAt: view.storedAt,
    callerId: view.callerId,
    promotedImageId: view.promotedImageId,
  };
}
