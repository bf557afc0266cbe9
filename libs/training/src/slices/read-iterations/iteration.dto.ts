import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { canonicalTrainingConfig, TrainingConfigDto } from '@diyml/projects';
import type { IterationView } from '../../read-models/iterations/iteration.view.js';
import { ClassificationMetricsDto, DetectionMetricsDto, MultilabelMetricsDto } from './metrics.dto.js';

export class EpochDto {
  @ApiProperty() epoch: number;
  @ApiProperty() loss: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Training accuracy (classification); null otherwise.' })
  accuracy: number | null;
  @ApiProperty({ nullable: true, type: Number }) valLoss: number | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      'Validation accuracy; validation mAP (per label, at any probability) for multilabel, mAP@0.5 for detection.',
  })
  valAccuracy: number | null;
  @ApiProperty() durationMs: number;
  @ApiProperty() imagesPerSecond: number;
}

export class ProgressDto {
  @ApiProperty() epoch: number;
  @ApiProperty() epochs: number;
}

export class EmbeddingsDto {
  @ApiProperty({
    description:
      'sha256 of the blob holding every embedding the run used (a backbone detector: the index of the feature maps it used, each a blob of its own); reused by later runs.',
  })
  sha256: string;
  @ApiProperty({ description: 'Embeddings (image × augmented view) computed by this run through the backbone.' })
  computed: number;
  @ApiProperty({
    description: 'Embeddings taken from earlier iterations of the project instead of being computed again.',
  })
  reused: number;
}

export class ImportedModelDto {
  @ApiProperty({
    enum: ['diyml', 'teachable-machine', 'tfjs-layers', 'keras-h5', 'keras'],
    description:
      'What the uploaded file was: a diyml export, a Teachable Machine (or other TensorFlow.js layers) export, or a Keras 2 (.h5) or 3 (.keras) file.',
  })
  format: string;
  @ApiProperty({ type: [String], description: "The model's classes (project labels) in model-output order." })
  labels: string[];
}

export class ModelBlobDto {
  @ApiProperty({
    description: 'sha256 of the trained (or imported) model archive, as GET …/export serves it.',
    example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  })
  sha256: string;
  @ApiProperty({ description: 'Size of the model archive in bytes.', example: 9_437_184 }) bytes: number;
}

export class ReproductionOutcomeDto {
  @ApiProperty({ description: "Whether the validation metrics equal the original iteration's exactly." })
  sameMetrics: boolean;
  @ApiProperty({ description: "Whether the model is byte for byte the original iteration's (same sha256)." })
  sameModel: boolean;
}

export class IterationErrorDto {
  @ApiProperty({
    description:
      'Stable code: TRAINING_FAILED, INVALID_TRAINING_INPUT (the dataset cannot be trained on) or WORKER_LOST.',
    example: 'TRAINING_FAILED',
  })
  code: string;
  @ApiProperty({ description: 'What went wrong, for a person.' }) reason: string;
}

@ApiExtraModels(ClassificationMetricsDto, MultilabelMetricsDto, DetectionMetricsDto)
export class IterationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ example: 1 }) number: number;
  @ApiProperty({ example: 'Iteration 1', description: '`Iteration <number>` until renamed (PATCH).' }) name: string;
  @ApiProperty({ enum: ['queued', 'running', 'completed', 'failed', 'cancelled'] }) status: string;
  @ApiProperty({ type: ProgressDto }) progress: ProgressDto;
  @ApiProperty({
    type: TrainingConfigDto,
    nullable: true,
    description:
      "The configuration this run used: the project's settings with the run's overrides, `architecture: 'auto'` " +
      'resolved, settings added since it was queued at their defaults. null for an imported model (not trained here).',
  })
  trainingConfig: TrainingConfigDto | null;
  @ApiProperty({ type: [EpochDto] }) history: EpochDto[];
  @ApiPropertyOptional({
    oneOf: [
      { $ref: getSchemaPath(ClassificationMetricsDto) },
      { $ref: getSchemaPath(MultilabelMetricsDto) },
      { $ref: getSchemaPath(DetectionMetricsDto) },
    ],
    description:
      "Once completed, the validation metrics at the task's default thresholds (the project's task tells which " +
      'kind); absent without validation images and for an imported model. GET …/metrics gives them at any threshold.',
  })
  metrics?: ClassificationMetricsDto | MultilabelMetricsDto | DetectionMetricsDto;
  @ApiPropertyOptional({ type: IterationErrorDto, description: 'Why it failed (status `failed`).' })
  error?: IterationErrorDto;
  @ApiProperty({ example: 'wasm', nullable: true, type: String }) backend: string | null;
  @ApiProperty({
    description:
      "The architecture trained; an imported model: diyml's id from its metadata, or 'imported' for a foreign one.",
  })
  architecture: string;
  @ApiProperty({ nullable: true, type: Number, description: 'null for an imported model (not trained here).' })
  seed: number | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'Images in the frozen dataset; null for an imported model (not trained here).',
  })
  imageCount: number | null;
  @ApiProperty({ description: 'sha256 of the frozen dataset manifest.' }) manifestSha256: string;
  @ApiProperty({
    type: ModelBlobDto,
    nullable: true,
    description: 'The model, once completed (an imported model: at once); null until then.',
  })
  model: ModelBlobDto | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) reproducedFrom: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Transfer learning: sha256 of the model this iteration builds on.',
  })
  baseModelSha256: string | null;
  @ApiProperty({
    description: 'Uploaded as a model archive (POST /v1/projects/{projectId}/models) rather than trained here.',
  })
  imported: boolean;
  @ApiPropertyOptional({ type: ImportedModelDto, description: 'An imported model: what it was uploaded as.' })
  importedModel?: ImportedModelDto;
  @ApiPropertyOptional({
    type: EmbeddingsDto,
    description:
      'Backbone architectures, once completed: the backbone embeddings (a detector: feature maps per image and view) the run used.',
  })
  embeddings?: EmbeddingsDto;
  @ApiPropertyOptional({
    type: ReproductionOutcomeDto,
    description: 'A completed reproduction (`reproducedFrom` set): whether it matched the original.',
  })
  reproduction?: ReproductionOutcomeDto;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'Once completed: the epoch whose weights the model kept (early stopping keeps the best one).',
  })
  bestEpoch: number | null;
  @ApiProperty({ description: 'Whether early stopping ended training before the configured epochs.' })
  stoppedEarly: boolean;
  @ApiProperty({ nullable: true, type: Number, description: 'Once completed: images the model trained on.' })
  trainCount: number | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'Once completed: images the metrics were measured on (the validation split).',
  })
  validationCount: number | null;
  @ApiProperty({ format: 'date-time' }) queuedAt: string;
  @ApiPropertyOptional({ format: 'date-time' }) startedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) completedAt?: string;
  @ApiPropertyOptional() durationMs?: number;
  @ApiProperty() revision: number;
}

export class IterationPageDto {
  @ApiProperty({ type: [IterationDto] }) items: IterationDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

/** The API shape: optional fields are left out until they apply. */
export function toIterationDto(view: IterationView): IterationDto {
  const {
    evaluationSha256: _evaluation,
    labels: _labels,
    task: _task,
    attempt: _attempt,
    queuedBy: _queuedBy,
    detectionSplitByLabel: _detectionSplitByLabel,
    multilabelSplitByLabel: _multilabelSplitByLabel,
    importFormat,
    ...rest
  } = view;
  const dto: IterationDto = {
    ...rest,
    // An imported model has none (documents projected before it was typed hold {} for it).
    trainingConfig: view.imported || !view.trainingConfig ? null : canonicalTrainingConfig(view.trainingConfig),
    importedModel: importFormat ? { format: importFormat, labels: view.labels.map((label) => label.name) } : undefined,
    metrics: view.metrics ?? undefined,
    reproduction: view.reproduction ?? undefined,
    embeddings: view.embeddings ?? undefined,
    error: view.error ?? undefined,
    startedAt: view.startedAt ?? undefined,
    completedAt: view.completedAt ?? undefined,
    durationMs: view.durationMs ?? undefined,
  };
  for (const key of Object.keys(dto) as (keyof IterationDto)[]) if (dto[key] === undefined) delete dto[key];
  return dto;
}

/** The `batch` Server-Sent Event: transient progress within an epoch, not recorded anywhere. */
export class PreparationProgressDto {
  @ApiProperty({
    enum: ['reading', 'decoding', 'embedding', 'feature-maps'],
    description:
      'What the run does before its first epoch: `reading` the images from storage, `decoding` them, then for ' +
      "backbone architectures computing the backbone's `embedding` of each image (classification) or its " +
      '`feature-maps` (detection).',
  })
  phase: 'reading' | 'decoding' | 'embedding' | 'feature-maps';
  @ApiProperty({
    description:
      'Done in this phase: images read or decoded; for `embedding` and `feature-maps`, image views computed (an ' +
      'image in one augmented view: several per training image with augmentation).',
  })
  done: number;
  @ApiProperty({ description: 'To do in this phase, in the same unit as `done` (cached views not included).' })
  total: number;
  @ApiProperty({
    description: 'Image views found in the cache of earlier runs, so not computed (0 when reading or decoding).',
  })
  cached: number;
  @ApiProperty({ description: 'Since the phase started, when this was reported.' }) elapsedMs: number;
  @ApiProperty({ description: 'Units of `done` per second in this phase so far.' }) perSecond: number;
  @ApiProperty({ description: "The run's attempt (a run that lost its worker starts again)." }) attempt: number;
  @ApiProperty({ format: 'date-time' }) reportedAt: string;
}

export class BatchProgressDto {
  @ApiProperty({ description: '1-based epoch being trained.' }) epoch: number;
  @ApiProperty() epochs: number;
  @ApiProperty({ description: 'Batches done in this epoch (1-based).' }) batch: number;
  @ApiProperty({ description: 'Batches in an epoch.' }) batches: number;
  @ApiProperty({ description: 'Since the epoch started, when this was reported.' }) elapsedMs: number;
  @ApiProperty({ description: 'Training images per second in this epoch so far.' }) imagesPerSecond: number;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description:
      'Photos each step (batch) learns from; the last step of a pass may take fewer. Null when the worker that ' +
      'trains is of a release that did not report it.',
  })
  batchSize: number | null;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'Images the run trains on. Null when the worker did not report it.',
  })
  trainingImages: number | null;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'Images the run validates on after each epoch (0 without validation). Null when not reported.',
  })
  validationImages: number | null;
  @ApiProperty({ description: "The run's attempt (a run that lost its worker starts again)." }) attempt: number;
  @ApiProperty({ format: 'date-time' }) reportedAt: string;
}
