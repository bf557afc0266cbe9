import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsOptional, ValidateNested } from 'class-validator';
import type { CvIterationPerformance, CvTagPerformance } from '../../domain/performance.js';
import {
  AZURE_CLASSIFICATION_TYPES,
  AZURE_EXPORT_FLAVORS,
  AZURE_EXPORT_PLATFORMS,
  AZURE_TRAINING_TYPES,
  CvBoolean,
  CvEnum,
  CvInteger,
  CvNumber,
  CvReadOnly,
  CvString,
  CvUuid,
  CvUuidList,
} from '../../http/input.js';

export class CvTagPerformanceDto implements CvTagPerformance {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'cat' }) name: string;
  @ApiProperty({ example: 0.92 }) precision: number;
  @ApiProperty({ example: 0 }) precisionStdDeviation: number;
  @ApiProperty({ example: 0.88 }) recall: number;
  @ApiProperty({ example: 0 }) recallStdDeviation: number;
  @ApiProperty({ example: 0.95 }) averagePrecision: number;
}

/** On the validation images, at `threshold` (and `overlapThreshold` for boxes); standard deviations are 0 (one split). */
export class CvIterationPerformanceDto implements CvIterationPerformance {
  @ApiProperty({ type: [CvTagPerformanceDto] }) perTagPerformance: CvTagPerformanceDto[];
  @ApiProperty({ example: 0.9 }) precision: number;
  @ApiProperty({ example: 0 }) precisionStdDeviation: number;
  @ApiProperty({ example: 0.87 }) recall: number;
  @ApiProperty({ example: 0 }) recallStdDeviation: number;
  @ApiProperty({
    example: 0.94,
    description: "Mean of the tags' average precision (detection: mAP at overlapThreshold).",
  })
  averagePrecision: number;
}

export class CvExportDto {
  @ApiProperty({ enum: ['TensorFlow', 'ONNX'] }) platform: string;
  @ApiProperty({ enum: ['Exporting', 'Failed', 'Done'], description: 'Done at once: exports are made on download.' })
  status: 'Exporting' | 'Failed' | 'Done';
  @ApiProperty({ description: "The model's download (GET /v1/projects/{projectId}/iterations/{iterationId}/model)." })
  downloadUri: string;
  @ApiProperty({ type: String, nullable: true, example: 'TensorFlowJs' }) flavor: string | null;
  @ApiProperty({ example: false }) newerVersionAvailable: boolean;
}

/** TrainProject's query: training always uses the project's training configuration (diyml project settings). */
export class CvTrainProjectQueryDto {
  @CvEnum(AZURE_TRAINING_TYPES, {
    default: 'Regular',
    description: 'Accepted; every training is the same (the project’s training configuration).',
  })
  trainingType?: string;

  @CvInteger({ default: 0, description: 'Accepted and not used: training has no budget here.' })
  reservedBudgetInHours?: number;

  @CvBoolean({ default: false, description: 'Accepted; a new iteration is queued whether or not the data changed.' })
  forceTrain?: boolean;

  @CvString({ maxLength: 320, description: 'Accepted and not used: no e-mail is sent.' })
  notificationEmailAddress?: string;
}

export class CvCustomBaseModelInfoDto {
  @CvUuid({ required: true, description: 'v3.4-preview: the project of the base model.' })
  projectId: string;

  @CvUuid({ required: true, description: 'v3.4-preview: the iteration of the base model.' })
  iterationId: string;
}

/** TrainProject's optional body (Azure's TrainingParameters). */
export class CvTrainingParametersDto {
  @CvUuidList({ description: 'Accepted and not used: training learns every tag of the project.' })
  selectedTags?: string[];

  @ApiPropertyOptional({
    type: CvCustomBaseModelInfoDto,
    description: 'v3.4-preview. Accepted and not used: training starts from the pretrained backbone.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => CvCustomBaseModelInfoDto)
  customBaseModelInfo?: CvCustomBaseModelInfoDto;
}

/** UpdateIteration's body: Azure's Iteration model; only the name changes. */
export class CvUpdateIterationDto {
  @CvString({ required: true, description: 'The new name.' })
  name: string;

  @CvReadOnly({ type: String, format: 'uuid' }) id?: string;
  @CvReadOnly({ type: String }) status?: string;
  @CvReadOnly({ type: String, format: 'date-time' }) created?: string;
  @CvReadOnly({ type: String, format: 'date-time' }) lastModified?: string;
  @CvReadOnly({ type: String, format: 'date-time', nullable: true }) trainedAt?: string | null;
  @CvReadOnly({ type: String, format: 'uuid' }) projectId?: string;
  @CvReadOnly({ type: Boolean }) exportable?: boolean;
  @CvReadOnly({ type: 'array', items: { type: 'string', enum: [...AZURE_EXPORT_PLATFORMS] } }) exportableTo?: string[];
  @CvReadOnly({ type: String, format: 'uuid', nullable: true }) domainId?: string | null;
  @CvReadOnly({ type: String, enum: [...AZURE_CLASSIFICATION_TYPES], nullable: true }) classificationType?: string;
  @CvReadOnly({ type: String, enum: [...AZURE_TRAINING_TYPES] }) trainingType?: string;
  @CvReadOnly({ type: 'integer', format: 'int32' }) reservedBudgetInHours?: number;
  @CvReadOnly({ type: 'integer', format: 'int32' }) trainingTimeInMinutes?: number;
  @CvReadOnly({ type: String }) publishName?: string;
  @CvReadOnly({ type: String }) originalPublishResourceId?: string;
  @CvReadOnly({ type: String, nullable: true, description: 'v3.4-preview.' }) trainingErrorDetails?: string | null;
  @CvReadOnly({ type: CvCustomBaseModelInfoDto, description: 'v3.4-preview.' })
  customBaseModelInfo?: CvCustomBaseModelInfoDto;
}

/** GetIterationPerformance's query. */
export class CvIterationPerformanceQueryDto {
  @CvNumber({ min: 0, max: 1, default: 0.5, description: 'A prediction counts from this probability on.' })
  threshold?: number;

  @CvNumber({ min: 0, max: 1, default: 0.3, description: 'Object detection: a box matches from this IoU on.' })
  overlapThreshold?: number;
}

/** ExportIteration's query. */
export class CvExportIterationQueryDto {
  @CvEnum(AZURE_EXPORT_PLATFORMS, {
    required: true,
    accepted: ['TensorFlow', 'ONNX'],
    description: 'TensorFlow (a TensorFlow.js archive) or ONNX; the other platforms are refused.',
  })
  platform: string;

  @CvEnum(AZURE_EXPORT_FLAVORS, {
    description: 'Accepted; TensorFlow exports are TensorFlow.js archives whatever the flavor.',
  })
  flavor?: string;
}
