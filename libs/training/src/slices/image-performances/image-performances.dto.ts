import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsNumber, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { PageQueryDto } from '@diyml/core';

export class ImagePerformanceFilterDto {
  @ApiPropertyOptional({
    description: 'Only images expected to carry this label (name or id): as their label, or in a region.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label?: string;

  @ApiPropertyOptional({
    description:
      'Only images predicted as this label (name or id) at the threshold; `none`: only images predicted as nothing. ' +
      'With `label`, one cell of the confusion matrix.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  predicted?: string;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 1,
    description:
      'Predictions below this probability count as none (as in …/metrics). Default: 0 for classification, 0.5 for ' +
      'detection, where boxes below it are also left out of `predictions`.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  @Max(1)
  threshold?: number;
}

export class ImagePerformanceQueryDto extends IntersectionType(ImagePerformanceFilterDto, PageQueryDto) {}

export class PerformanceBoxDto {
  @ApiProperty({ description: 'Left edge, as a fraction of the image width.', example: 0.1 }) x: number;
  @ApiProperty({ description: 'Top edge, as a fraction of the image height.', example: 0.2 }) y: number;
  @ApiProperty({ example: 0.3 }) width: number;
  @ApiProperty({ example: 0.4 }) height: number;
}

export class ExpectedLabelDto {
  @ApiProperty({ format: 'uuid' }) labelId: string;
  @ApiProperty({ example: 'cat', description: 'The name the label had when the iteration was queued.' }) label: string;
  @ApiPropertyOptional({ type: PerformanceBoxDto, description: 'Detection: the labeled region.' })
  box?: PerformanceBoxDto;
}

export class PredictedLabelDto extends ExpectedLabelDto {
  @ApiProperty({ example: 0.93 }) probability: number;
}

export class ImagePerformanceDto {
  @ApiProperty({ format: 'uuid' }) imageId: string;
  @ApiProperty({ example: 'cat-01.jpg' }) filename: string;
  @ApiProperty({ example: 640 }) width: number;
  @ApiProperty({ example: 480 }) height: number;
  @ApiProperty({
    type: [ExpectedLabelDto],
    description: 'Classification: the image label; detection: one entry per labeled region.',
  })
  expected: ExpectedLabelDto[];
  @ApiProperty({
    type: [PredictedLabelDto],
    description:
      'Most probable first. Classification: every label; detection: the boxes found at or above the threshold.',
  })
  predictions: PredictedLabelDto[];
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'Classification: the label predicted at the threshold (null: none). Detection: null.',
  })
  predictedLabelId: string | null;
  @ApiProperty({
    type: Boolean,
    nullable: true,
    description: 'Classification: whether the prediction is the expected label. Detection: null.',
  })
  correct: boolean | null;
}

export class ImagePerformancePageDto {
  @ApiProperty({ type: [ImagePerformanceDto], description: 'In validation order.' }) items: ImagePerformanceDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class ImagePerformanceCountDto {
  @ApiProperty({ example: 12, description: 'Validation images matching the filter.' }) count: number;
}
