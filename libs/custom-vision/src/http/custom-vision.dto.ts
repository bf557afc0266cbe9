import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type {
  CvImage,
  CvImagePrediction,
  CvIteration,
  CvPrediction,
  CvProject,
  CvRegion,
  CvTag,
} from '../domain/shapes.js';

// Custom Vision's JSON shapes (domain/shapes.ts), documented for Swagger: each class implements the shape it
// documents, so the two cannot drift apart.

export class CvBoundingBoxDto {
  @ApiProperty({ example: 0.1, description: 'Left edge, a fraction (0..1) of the image width.' }) left: number;
  @ApiProperty({ example: 0.2, description: 'Top edge, a fraction (0..1) of the image height.' }) top: number;
  @ApiProperty({ example: 0.5, description: 'A fraction (0..1) of the image width.' }) width: number;
  @ApiProperty({ example: 0.4, description: 'A fraction (0..1) of the image height.' }) height: number;
}

export class CvImageProcessingSettingsDto {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'boolean' } })
  augmentationMethods: Record<string, boolean>;
}

export class CvProjectSettingsDto {
  @ApiProperty({ format: 'uuid', description: 'The General domain of the project type (GetDomains).' })
  domainId: string;
  @ApiProperty({
    type: String,
    enum: ['Multiclass', 'Multilabel'],
    nullable: true,
    description: 'null for object detection.',
  })
  classificationType: 'Multiclass' | 'Multilabel' | null;
  @ApiProperty({ type: [String], example: ['TensorFlow', 'ONNX'] }) targetExportPlatforms: string[];
  @ApiProperty({ example: false }) useNegativeSet: boolean;
  @ApiProperty({ type: String, nullable: true, example: null }) detectionParameters: string | null;
  @ApiProperty({ type: CvImageProcessingSettingsDto, nullable: true, example: null })
  imageProcessingSettings: CvImageProcessingSettingsDto | null;
}

export class CvProjectDto implements CvProject {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'Cats and dogs' }) name: string;
  @ApiProperty({ example: '' }) description: string;
  @ApiProperty({ type: CvProjectSettingsDto }) settings: CvProjectSettingsDto;
  @ApiProperty({ format: 'date-time' }) created: string;
  @ApiProperty({ format: 'date-time' }) lastModified: string;
  @ApiProperty({ type: String, nullable: true, example: null }) thumbnailUri: string | null;
  @ApiProperty({ example: false }) drModeEnabled: boolean;
  @ApiProperty({ enum: ['Succeeded'] }) status: 'Succeeded';
}

export class CvTagDto implements CvTag {
  @ApiProperty({ format: 'uuid', description: "The project label's id." }) id: string;
  @ApiProperty({ example: 'cat' }) name: string;
  @ApiProperty({ example: '' }) description: string;
  @ApiProperty({ enum: ['Regular', 'Negative'] }) type: 'Regular' | 'Negative';
  @ApiProperty({ example: 12, description: 'Images tagged with it (or with a region of it).' }) imageCount: number;
}

export class CvImageTagDto {
  @ApiProperty({ format: 'uuid' }) tagId: string;
  @ApiProperty({ example: 'cat' }) tagName: string;
  @ApiProperty({ format: 'date-time' }) created: string;
}

export class CvRegionDto implements CvRegion {
  @ApiProperty({ format: 'uuid', description: 'Derived from the image and the box: stable while the box is.' })
  regionId: string;
  @ApiProperty({ example: 'cat' }) tagName: string;
  @ApiProperty({ format: 'date-time' }) created: string;
  @ApiProperty({ format: 'uuid' }) tagId: string;
  @ApiProperty({ example: 0.1, description: 'A fraction (0..1) of the image width.' }) left: number;
  @ApiProperty({ example: 0.2, description: 'A fraction (0..1) of the image height.' }) top: number;
  @ApiProperty({ example: 0.5 }) width: number;
  @ApiProperty({ example: 0.4 }) height: number;
}

export class CvImageDto implements CvImage {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time' }) created: string;
  @ApiProperty({ example: 640 }) width: number;
  @ApiProperty({ example: 480 }) height: number;
  @ApiProperty({ description: 'The original bytes (this server keeps no resized copy).' }) resizedImageUri: string;
  @ApiProperty() thumbnailUri: string;
  @ApiProperty() originalImageUri: string;
  @ApiProperty({ type: [CvImageTagDto], nullable: true, description: 'null when it has no tag.' })
  tags: CvImageTagDto[] | null;
  @ApiProperty({ type: [CvRegionDto], nullable: true, description: 'null when it has no region.' })
  regions: CvRegionDto[] | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    nullable: true,
    example: { camera: 'porch' },
    description: 'Its key/value metadata; null when it has none.',
  })
  metadata: Record<string, string> | null;
}

export class CvIterationDto implements CvIteration {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'Iteration 1' }) name: string;
  @ApiProperty({ enum: ['Training', 'Completed', 'Failed'], description: 'Failed also for a cancelled iteration.' })
  status: 'Training' | 'Completed' | 'Failed';
  @ApiProperty({ format: 'date-time' }) created: string;
  @ApiProperty({ format: 'date-time' }) lastModified: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) trainedAt: string | null;
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty() exportable: boolean;
  @ApiProperty({ type: [String], example: ['TensorFlow', 'ONNX'] }) exportableTo: string[];
  @ApiProperty({ format: 'uuid' }) domainId: string;
  @ApiProperty({ type: String, enum: ['Multiclass', 'Multilabel'], nullable: true })
  classificationType: 'Multiclass' | 'Multilabel' | null;
  @ApiProperty({ enum: ['Regular'] }) trainingType: 'Regular';
  @ApiProperty({ example: 0 }) reservedBudgetInHours: number;
  @ApiProperty({ example: 2 }) trainingTimeInMinutes: number;
  @ApiProperty({ type: String, nullable: true, description: 'The name it is published under; null when it is not.' })
  publishName: string | null;
  @ApiProperty({ type: String, nullable: true, example: null }) originalPublishResourceId: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why training failed (or that it was cancelled).' })
  trainingErrorDetails: string | null;
}

export class CvPredictionDto implements CvPrediction {
  @ApiProperty({ example: 0.93 }) probability: number;
  @ApiProperty({ format: 'uuid' }) tagId: string;
  @ApiProperty({ example: 'cat' }) tagName: string;
  @ApiPropertyOptional({ type: CvBoundingBoxDto, description: 'Object detection only.' })
  boundingBox?: CvBoundingBoxDto;
  @ApiProperty({
    enum: ['Regular', 'Negative'],
    description:
      'Negative: the project’s Negative tag, which a Multiclass model predicts like a tag ("none of these").',
  })
  tagType: 'Regular' | 'Negative';
}

export class CvImagePredictionDto implements CvImagePrediction {
  @ApiProperty({ format: 'uuid', description: 'The stored prediction’s id when it was stored; else a new id.' })
  id: string;
  @ApiProperty({ format: 'uuid' }) project: string;
  @ApiProperty({ format: 'uuid' }) iteration: string;
  @ApiProperty({ format: 'date-time' }) created: string;
  @ApiProperty({ type: [CvPredictionDto], description: 'Sorted by probability, highest first.' })
  predictions: CvPredictionDto[];
}
