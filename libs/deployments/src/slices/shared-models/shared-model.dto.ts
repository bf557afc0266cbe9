import { ApiProperty } from '@nestjs/swagger';
import type { SharedModelView } from '../../read-models/shared-models/shared-models.projection.js';

export class SharedModelMetricsDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Classification: share of validation images labeled right.',
  })
  accuracy: number | null;
  @ApiProperty({ type: Number, nullable: true }) precision: number | null;
  @ApiProperty({ type: Number, nullable: true }) recall: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Detection: mean average precision at IoU 0.5.' }) map50:
    number | null;
}

/** What every signed-in user sees of a shared model: nothing else of its project. */
export class SharedModelDto {
  @ApiProperty({ format: 'uuid', description: 'The shared deployment.' }) id: string;
  @ApiProperty({ example: 'Fruit classifier' }) name: string;
  @ApiProperty({ example: 'Tells apples from pears.' }) description: string;
  @ApiProperty({ enum: ['classification', 'multilabel', 'detection'] }) task: string;
  @ApiProperty({ type: [String], description: 'What it predicts.' }) labels: string[];
  @ApiProperty({
    type: SharedModelMetricsDto,
    nullable: true,
    description: 'Validation metrics of the iteration (null for an imported model).',
  })
  metrics: SharedModelMetricsDto | null;
  @ApiProperty({ format: 'date-time' }) sharedAt: string;
  @ApiProperty({
    example: '/v1/shared-models/0b6f…/predict',
    description: 'POST an image here with your own personal token.',
  })
  endpoint: string;
}

export class SharedModelPageDto {
  @ApiProperty({ type: [SharedModelDto] }) items: SharedModelDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export function toSharedModelDto(view: SharedModelView): SharedModelDto {
  return {
    id: view.id,
    name: view.name,
    description: view.description,
    task: view.task,
    labels: view.labels,
    metrics: view.metrics,
    sharedAt: view.sharedAt,
    endpoint: `/v1/shared-models/${view.id}/predict`,
  };
}
