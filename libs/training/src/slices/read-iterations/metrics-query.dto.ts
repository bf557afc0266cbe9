import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsNumber, IsOptional, Max, Min } from 'class-validator';

/** Thresholds for metrics of an iteration or a test run. */
export class MetricsQueryDto {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: 1,
    description:
      'Predictions below this probability count as none. Default: 0 for classification (every image gets its most ' +
      'probable label), 0.5 for multilabel and detection.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  @Max(1)
  threshold?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1, default: 0.5, description: 'Detection: IoU a box needs to match.' })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  @Max(1)
  overlapThreshold?: number;
}
