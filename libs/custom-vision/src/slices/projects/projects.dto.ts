import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, ValidateNested } from 'class-validator';
import {
  AZURE_CLASSIFICATION_TYPES,
  AZURE_EXPORT_PLATFORMS,
  AZURE_PROJECT_STATUSES,
  CvEnum,
  CvEnumList,
  CvReadOnly,
  CvString,
  CvUuid,
} from '../../http/input.js';

const EXPORTS_TO = 'Every model exports to TensorFlow (a TensorFlow.js archive) and ONNX, whatever is asked.';

/** CreateProject's query (Azure: name, description, domainId, classificationType, targetExportPlatforms). */
export class CvCreateProjectQueryDto {
  @CvString({ required: true, description: 'Name of the project.' })
  name: string;

  @CvString({ description: 'The description of the project.' })
  description?: string;

  @CvUuid({
    description:
      'The domain (GetDomains): a classification or an object detection domain chooses the project type. Defaults to General (classification).',
  })
  domainId?: string;

  @CvEnum(AZURE_CLASSIFICATION_TYPES, {
    description:
      'Classification domains: Multiclass (one tag per image, the default) or Multilabel (any number of tags per ' +
      'image, each with its own probability). Ignored for object detection.',
  })
  classificationType?: 'Multiclass' | 'Multilabel';

  @CvEnumList(AZURE_EXPORT_PLATFORMS, { description: `Platforms the model should export to. ${EXPORTS_TO}` })
  targetExportPlatforms?: string[];
}

export class CvImageProcessingSettingsInputDto {
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'boolean' },
    nullable: true,
    description: 'Accepted and not used: augmentation is part of the training configuration (diyml project settings).',
  })
  @IsOptional()
  @IsObject()
  augmentationMethods?: Record<string, boolean> | null;
}

export class CvProjectSettingsInputDto {
  @CvUuid({ description: 'A domain of the same type (classification or object detection): the type cannot change.' })
  domainId?: string;

  @CvEnum(AZURE_CLASSIFICATION_TYPES, {
    nullable: true,
    description:
      'Multiclass ↔ Multilabel: images keep their tags. To Multiclass only while no image has several tags ' +
      '(BadRequestMultiClassClassificationTrainingValidationFailed); an object detection project has none ' +
      '(BadRequestProjectUnsupportedDomainTypeChange). Null or absent: unchanged.',
  })
  classificationType?: 'Multiclass' | 'Multilabel' | null;

  @CvEnumList(AZURE_EXPORT_PLATFORMS, { description: EXPORTS_TO })
  targetExportPlatforms?: string[];

  @CvReadOnly({ type: Boolean, nullable: true })
  useNegativeSet?: boolean | null;

  @CvReadOnly({ type: String })
  detectionParameters?: string;

  @ApiPropertyOptional({ type: CvImageProcessingSettingsInputDto, nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => CvImageProcessingSettingsInputDto)
  imageProcessingSettings?: CvImageProcessingSettingsInputDto | null;

  @CvReadOnly({ type: String, nullable: true, description: 'v3.4-preview.' })
  exportModelContainerUri?: string | null;

  @CvReadOnly({ type: String, nullable: true, description: 'v3.4-preview.' })
  notificationQueueUri?: string | null;
}

/**
 * UpdateProject's body: Azure's Project model. Only name and description change; Azure requires description and
 * settings too, here a missing one is left as it is.
 */
export class CvUpdateProjectDto {
  @CvReadOnly({ type: String, format: 'uuid' })
  id?: string;

  @CvString({ description: 'The new name (left as it is when absent).' })
  name?: string;

  @CvString({ nullable: true, description: 'The new description (left as it is when absent or null).' })
  description?: string | null;

  @ApiPropertyOptional({ type: CvProjectSettingsInputDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => CvProjectSettingsInputDto)
  settings?: CvProjectSettingsInputDto;

  @CvReadOnly({ type: String, format: 'date-time' })
  created?: string;

  @CvReadOnly({ type: String, format: 'date-time' })
  lastModified?: string;

  @CvReadOnly({ type: String, nullable: true })
  thumbnailUri?: string | null;

  @CvReadOnly({ type: Boolean, nullable: true })
  drModeEnabled?: boolean | null;

  @CvEnum(AZURE_PROJECT_STATUSES, { description: 'Not changed by an update.' })
  status?: string;
}

/** CreateProject's optional body (v3.4-preview CreateProjectOptions). */
export class CvCreateProjectOptionsDto {
  @CvString({ description: 'v3.4-preview. Accepted and not used: exports are downloaded, not copied to a container.' })
  exportModelContainerUri?: string;

  @CvString({ description: 'v3.4-preview. Accepted and not used: no queue is notified.' })
  notificationQueueUri?: string;
}
