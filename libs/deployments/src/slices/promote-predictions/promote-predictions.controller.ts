import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { IMAGE_QUOTA_DESCRIPTION, LabelReferencesProperty, RegionInputDto } from '@diyml/datasets';
import { ProjectAccess } from '@diyml/projects';
import { MULTILABEL_THRESHOLD } from '@diyml/ml/pure';
import { PREDICTED_BOX_THRESHOLD, PredictionPromoter } from './prediction-promoter.js';

export const MAX_PROMOTIONS = 100;

export class PromotionDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  predictionId: string;

  @ApiPropertyOptional({
    example: 'cat',
    description: 'Classification: the right label (name or id). Default: the top prediction.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label?: string;

  @LabelReferencesProperty(
    `Multilabel: the right labels (names or ids; [] untags it). Default: the labels predicted with probability ≥ ${MULTILABEL_THRESHOLD}.`,
    ['dog', 'outdoor'],
  )
  labels?: string[];

  @ApiPropertyOptional({
    type: [RegionInputDto],
    description: `Detection: the right boxes. Default: the predicted boxes with probability ≥ ${PREDICTED_BOX_THRESHOLD}.`,
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  @Type(() => RegionInputDto)
  regions?: RegionInputDto[];

  @ApiPropertyOptional({ enum: ['train', 'test'], default: 'train' })
  @IsOptional()
  @IsIn(['train', 'test'])
  split?: 'train' | 'test';
}

export class PromotePredictionsDto {
  @ApiProperty({ type: [PromotionDto], minItems: 1, maxItems: MAX_PROMOTIONS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PROMOTIONS)
  @ValidateNested({ each: true })
  @Type(() => PromotionDto)
  items: PromotionDto[];
}

export class PromotionErrorDto {
  @ApiProperty({ description: 'The stable code the same refusal has as an error answer.', example: 'INVALID_IMAGE' })
  code: string;
  @ApiProperty({ description: 'Why, for a person.' }) message: string;
}

export class PromotionResultDto {
  @ApiProperty({ format: 'uuid' }) predictionId: string;
  @ApiProperty({
    enum: ['created', 'duplicate', 'rejected'],
    description: 'duplicate: the dataset holds these bytes already (imageId), unchanged.',
  })
  status: string;
  @ApiPropertyOptional({ format: 'uuid' }) imageId?: string;
  @ApiPropertyOptional({ type: PromotionErrorDto, description: 'Why the image was refused (status `rejected`).' })
  error?: PromotionErrorDto;
}

export class PromotePredictionsResultDto {
  @ApiProperty({ type: [PromotionResultDto] }) items: PromotionResultDto[];
}

/** Adds stored predictions to the dataset through PredictionPromoter: one bad item and nothing is added. */
@ApiTags('stored predictions')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/predictions/promote')
export class PromotePredictionsController {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly promoter: PredictionPromoter,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'promotePredictions',
    summary: 'Add stored predictions to the dataset with a corrected label, labels or boxes',
    description:
      'Every item is checked first (404 PREDICTION_NOT_FOUND, 409 PREDICTION_ALREADY_PROMOTED, 400 UNKNOWN_LABEL, ' +
      '400 WRONG_PROJECT_TYPE, 400 REGION_OUT_OF_BOUNDS and the other box checks of the dataset): one bad item and nothing is added. ' +
      IMAGE_QUOTA_DESCRIPTION,
  })
  @ApiOkResponse({ type: PromotePredictionsResultDto })
  @ApiErrors(400, 401, 404, 409, 422)
  async promote(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: PromotePredictionsDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<PromotePredictionsResultDto> {
    const project = await this.projects.getOwned(projectId, user.id);
    // A null label in JSON means "not given" here, as it always has: the top prediction is taken.
    const promotions = body.items.map(({ predictionId, label, labels, regions, split }) => ({
      predictionId,
      label: label ?? undefined,
      labels,
      regions,
      split,
    }));
    return { items: await this.promoter.promote(project, promotions, { ...context, userId: user.id }) };
  }
}
