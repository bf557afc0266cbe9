import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  MinLength,
  ValidateBy,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { DEFAULT_BACKBONE_ID, PHOTO_MIN_SIDE } from '@diyml/ml';
import { ARCHITECTURE_IDS, architecturesFor } from '../domain/architectures.js';
import {
  AUGMENTATION_RANGES,
  DEFAULT_AUGMENTATION,
  DEFAULT_EARLY_STOPPING_PATIENCE,
  DEFAULT_IMAGE_SIZE,
  EARLY_STOPPING_RANGES,
  MAX_ARCHITECTURE_ID_LENGTH,
  MAX_BACKBONE_ID_LENGTH,
  type NumberRange,
  rangeMessage,
  TRAINING_CONFIG_RANGES,
  type TrainingConfig,
} from '../domain/training-config.js';

const BASE_ITERATION_DESCRIPTION =
  "For the 'transfer' architecture (required there): the iteration of this project whose model it builds on, for " +
  'example one imported from Teachable Machine. Its layers are frozen and a new classifier is trained on top. ' +
  "For 'backbone-classifier' and 'backbone-detector': that iteration's model serves as the backbone instead of `backbone`.";

const ARCHITECTURE_DESCRIPTION =
  `Model architecture. classification: ${architecturesFor('classification').join(', ')} (default auto: ` +
  `backbone-classifier for photos, small-cnn for images under ${PHOTO_MIN_SIDE} px); ` +
  'multilabel: the same, each with a sigmoid output per label and binary cross-entropy; ' +
  `detection: ${architecturesFor('detection').join(', ')} (default backbone-detector, which uses its backbone's input size; auto: backbone-detector for photos, tiny-detector for small images). ` +
  'Anything else is 400 UNKNOWN_ARCHITECTURE listing the ones the project type knows.';

const BACKBONE_DESCRIPTION =
  `The pretrained backbone of backbone-classifier and backbone-detector (and of auto when it picks one): one of GET /v1/backbones; null for ${DEFAULT_BACKBONE_ID}. ` +
  'An unknown one is 400 UNKNOWN_BACKBONE; one whose weights are missing, fail their checksum or cannot be downloaded is 422 with the code ' +
  'BACKBONE_WEIGHTS_MISSING, BACKBONE_CHECKSUM_MISMATCH or BACKBONE_DOWNLOAD_FAILED.';

const FINE_TUNE_DESCRIPTION =
  "backbone-classifier (and auto when it picks it): how many of the backbone's last blocks before its embedding layer train too, at a tenth of " +
  'the learning rate; 0 (default) keeps the backbone frozen. Slower: those blocks run forwards and backwards at every step. Queueing it for another ' +
  'architecture, or for a backbone with fewer blocks to fine-tune, is 422 FINE_TUNE_UNSUPPORTED.';

const IMAGE_SIZE_DESCRIPTION = `Images are resized to imageSize × imageSize pixels. Default ${DEFAULT_IMAGE_SIZE.classification} for classification, ${DEFAULT_IMAGE_SIZE.detection} for detection.`;

function isInRange(value: unknown, range: NumberRange): boolean {
  return (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!range.integer || Number.isInteger(value)) &&
    value >= range.min &&
    value <= range.max
  );
}

/** An optional numeric setting: documented with its range, one error naming the field and the range. */
function RangeSetting(field: string, range: NumberRange, options: { default?: number; description?: string } = {}) {
  const message = rangeMessage(field, range);
  return applyDecorators(
    ApiPropertyOptional({
      type: range.integer ? 'integer' : 'number',
      minimum: range.min,
      maximum: range.max,
      ...options,
    }),
    ValidateIf((_, value) => value !== undefined),
    ValidateBy({
      name: 'inRange',
      validator: { validate: (value) => isInRange(value, range), defaultMessage: () => message },
    }),
  );
}

export class AugmentationInputDto {
  @ApiPropertyOptional({
    default: DEFAULT_AUGMENTATION.horizontalFlip,
    description: 'Flip half the images left to right.',
  })
  @ValidateIf((_, value) => value !== undefined)
  @IsBoolean({ message: 'augmentation.horizontalFlip must be a boolean' })
  horizontalFlip?: boolean;

  @RangeSetting('augmentation.cropScale', AUGMENTATION_RANGES.cropScale, {
    default: DEFAULT_AUGMENTATION.cropScale,
    description: 'Smallest fraction of each side a random crop keeps; 1 turns cropping off.',
  })
  cropScale?: number;

  @RangeSetting('augmentation.brightness', AUGMENTATION_RANGES.brightness, {
    default: DEFAULT_AUGMENTATION.brightness,
    description: 'Largest random brightness shift, as a fraction of the full range; 0 turns it off.',
  })
  brightness?: number;
}

export class EarlyStoppingInputDto {
  @ApiPropertyOptional({ default: true })
  @ValidateIf((_, value) => value !== undefined)
  @IsBoolean({ message: 'earlyStopping.enabled must be a boolean' })
  enabled?: boolean;

  @RangeSetting('earlyStopping.patience', EARLY_STOPPING_RANGES.patience, {
    default: DEFAULT_EARLY_STOPPING_PATIENCE,
    description: 'Epochs without a better validation loss before training stops.',
  })
  patience?: number;
}

/**
 * Training settings in a request, each optional: `PUT …/training-config` fills the ones left out with the
 * defaults; `POST …/iterations` documents its per-run overrides with this class.
 */
export class TrainingConfigInputDto {
  @RangeSetting('learningRate', TRAINING_CONFIG_RANGES.learningRate, { default: 0.001 })
  learningRate?: number;

  @RangeSetting('epochs', TRAINING_CONFIG_RANGES.epochs, { default: 10 })
  epochs?: number;

  @RangeSetting('batchSize', TRAINING_CONFIG_RANGES.batchSize, { default: 32 })
  batchSize?: number;

  @RangeSetting('imageSize', TRAINING_CONFIG_RANGES.imageSize, { description: IMAGE_SIZE_DESCRIPTION })
  imageSize?: number;

  @ApiPropertyOptional({ enum: ARCHITECTURE_IDS, description: ARCHITECTURE_DESCRIPTION })
  @ValidateIf((_, value) => value !== undefined)
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_ARCHITECTURE_ID_LENGTH)
  architecture?: string;

  @RangeSetting('validationSplit', TRAINING_CONFIG_RANGES.validationSplit, {
    default: 0.2,
    description: 'Fraction of training images held out for validation when no image is assigned the validation split.',
  })
  validationSplit?: number;

  @ApiPropertyOptional({ type: AugmentationInputDto, description: 'Settings left out keep their defaults.' })
  @ValidateIf((_, value) => value !== undefined)
  @IsObject({ message: 'augmentation must be an object' })
  @ValidateNested()
  @Type(() => AugmentationInputDto)
  augmentation?: AugmentationInputDto;

  @RangeSetting('seed', TRAINING_CONFIG_RANGES.seed, {
    default: 42,
    description: 'Seeds shuffling, splitting, augmentation and initial weights: the same seed gives the same run.',
  })
  seed?: number;

  @RangeSetting('fineTune', TRAINING_CONFIG_RANGES.fineTune, { default: 0, description: FINE_TUNE_DESCRIPTION })
  fineTune?: number;

  @ApiPropertyOptional({
    type: EarlyStoppingInputDto,
    nullable: true,
    default: null,
    description: 'null (default) trains every epoch; an object turns early stopping on.',
  })
  @IsOptional()
  @IsObject({ message: 'earlyStopping must be an object or null' })
  @ValidateNested()
  @Type(() => EarlyStoppingInputDto)
  earlyStopping?: EarlyStoppingInputDto | null;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    default: null,
    description: BASE_ITERATION_DESCRIPTION,
  })
  @IsOptional()
  @IsUUID(undefined, { message: 'baseIterationId must be the id (a UUID) of an iteration with a model, or null' })
  baseIterationId?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    default: null,
    example: DEFAULT_BACKBONE_ID,
    description: BACKBONE_DESCRIPTION,
  })
  @IsOptional()
  @IsString({ message: 'backbone must be a backbone id (GET /v1/backbones lists them) or null for the default' })
  @MinLength(1)
  @MaxLength(MAX_BACKBONE_ID_LENGTH)
  backbone?: string | null;
}

export class AugmentationDto {
  @ApiProperty({ example: true })
  horizontalFlip: boolean;

  @ApiProperty({
    minimum: AUGMENTATION_RANGES.cropScale.min,
    maximum: AUGMENTATION_RANGES.cropScale.max,
    example: 0.85,
  })
  cropScale: number;

  @ApiProperty({
    minimum: AUGMENTATION_RANGES.brightness.min,
    maximum: AUGMENTATION_RANGES.brightness.max,
    example: 0.15,
  })
  brightness: number;
}

export class EarlyStoppingDto {
  @ApiProperty()
  enabled: boolean;

  @ApiProperty({
    type: 'integer',
    minimum: EARLY_STOPPING_RANGES.patience.min,
    maximum: EARLY_STOPPING_RANGES.patience.max,
  })
  patience: number;
}

/** A project's (or an iteration's) complete training configuration. */
export class TrainingConfigDto implements TrainingConfig {
  @ApiProperty({
    example: 0.001,
    minimum: TRAINING_CONFIG_RANGES.learningRate.min,
    maximum: TRAINING_CONFIG_RANGES.learningRate.max,
  })
  learningRate: number;

  @ApiProperty({
    type: 'integer',
    example: 10,
    minimum: TRAINING_CONFIG_RANGES.epochs.min,
    maximum: TRAINING_CONFIG_RANGES.epochs.max,
  })
  epochs: number;

  @ApiProperty({
    type: 'integer',
    example: 32,
    minimum: TRAINING_CONFIG_RANGES.batchSize.min,
    maximum: TRAINING_CONFIG_RANGES.batchSize.max,
  })
  batchSize: number;

  @ApiProperty({
    type: 'integer',
    example: 64,
    minimum: TRAINING_CONFIG_RANGES.imageSize.min,
    maximum: TRAINING_CONFIG_RANGES.imageSize.max,
    description: IMAGE_SIZE_DESCRIPTION,
  })
  imageSize: number;

  @ApiProperty({ enum: ARCHITECTURE_IDS, example: 'auto', description: ARCHITECTURE_DESCRIPTION })
  architecture: string;

  @ApiProperty({
    example: 0.2,
    minimum: TRAINING_CONFIG_RANGES.validationSplit.min,
    maximum: TRAINING_CONFIG_RANGES.validationSplit.max,
  })
  validationSplit: number;

  @ApiProperty({ type: AugmentationDto })
  augmentation: AugmentationDto;

  @ApiProperty({
    type: 'integer',
    example: 42,
    minimum: TRAINING_CONFIG_RANGES.seed.min,
    maximum: TRAINING_CONFIG_RANGES.seed.max,
  })
  seed: number;

  @ApiProperty({ type: EarlyStoppingDto, nullable: true })
  earlyStopping: EarlyStoppingDto | null;

  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: BASE_ITERATION_DESCRIPTION })
  baseIterationId: string | null;

  @ApiProperty({ type: String, nullable: true, example: null, description: BACKBONE_DESCRIPTION })
  backbone: string | null;

  @ApiProperty({
    type: 'integer',
    example: 0,
    minimum: TRAINING_CONFIG_RANGES.fineTune.min,
    maximum: TRAINING_CONFIG_RANGES.fineTune.max,
    description: FINE_TUNE_DESCRIPTION,
  })
  fineTune: number;
}
