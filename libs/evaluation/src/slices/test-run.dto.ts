import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import {
  ClassificationMetricsWithApDto,
  DetectionMetricsAtThresholdDto,
  type MetricsWithAp,
  MultilabelMetricsAtThresholdDto,
  METRICS_WITH_AP_SCHEMA,
} from '@diyml/training';
import { type BoxMatches, boxMatchesOf } from '../domain/box-matches.js';
import type { TestPrediction } from '../domain/test-manifest.js';
import type { TestRunView } from '../read-models/test-runs/test-run.view.js';

/** Why a run failed. */
export class RunErrorDto {
  @ApiProperty({ description: 'Stable code of the failure.', example: 'TEST_RUN_FAILED' }) code: string;
  @ApiProperty({ description: 'What went wrong, for a person.' }) reason: string;
}

export class BoxMatchesDto implements BoxMatches {
  @ApiProperty({ example: 0.5, description: 'Found boxes count from this probability (those listed in `predicted`).' })
  scoreThreshold: number;
  @ApiProperty({
    example: 0.5,
    description: 'A found box matches a labeled box of its label that it overlaps by at least this IoU.',
  })
  overlapThreshold: number;
  @ApiProperty({ example: 1, description: 'Labeled boxes a found box matched.' }) matched: number;
  @ApiProperty({ example: 0, description: 'Labeled boxes no found box matched.' }) missed: number;
  @ApiProperty({
    example: 0,
    description: 'Found boxes that matched no labeled box (wrong place or label, or a second box on one object).',
  })
  falsePositives: number;
}

/** A box in fractions of the image: x, y its top-left corner. */
export class TestBoxDto {
  @ApiProperty({ example: 'cat' }) label: string;
  @ApiProperty({ example: 0.1 }) x: number;
  @ApiProperty({ example: 0.2 }) y: number;
  @ApiProperty({ example: 0.5 }) width: number;
  @ApiProperty({ example: 0.4 }) height: number;
}

export class FoundBoxDto extends TestBoxDto {
  @ApiProperty({ example: 0.93 }) probability: number;
}

@ApiExtraModels(TestBoxDto, FoundBoxDto)
export class TestPredictionDto {
  @ApiProperty({ example: 'cat-01.jpg' }) filename: string;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    description: 'The project image, for a test-split run.',
  })
  imageId: string | null;
  @ApiProperty({
    oneOf: [
      { type: 'string' },
      { type: 'array', items: { type: 'string' } },
      { type: 'array', items: { $ref: getSchemaPath(TestBoxDto) } },
    ],
    description: 'Classification: the expected label; multilabel: the expected labels; detection: the expected boxes.',
  })
  expected: TestPrediction['expected'];
  @ApiProperty({
    oneOf: [
      { type: 'string' },
      { type: 'array', items: { type: 'string' } },
      { type: 'array', items: { $ref: getSchemaPath(FoundBoxDto) } },
    ],
    description:
      'Classification: the most probable label; multilabel: the labels of probability ≥ 0.5; detection: the boxes found with probability ≥ 0.5 (`boxMatches.scoreThreshold`).',
  })
  predicted: TestPrediction['predicted'];
  @ApiProperty({
    example: 0.93,
    description:
      'Classification: the probability of `predicted`; detection: the probability of the most probable box, listed in `predicted` or not (0 without boxes).',
  })
  confidence: number;
  @ApiPropertyOptional({
    description:
      'Classification: whether the prediction is the expected label; multilabel: whether `predicted` is exactly `expected` (detection: absent, compare the boxes).',
  })
  correct?: boolean;
  @ApiPropertyOptional({
    type: BoxMatchesDto,
    description:
      "Detection: the labeled boxes matched and missed and the false boxes, counting the boxes in `predicted` only; summed over the images they are the run's precision and recall at the same thresholds. AP (mAP@50) ranks every box whatever its probability, so it is a run-level figure with no per-image counterpart.",
  })
  boxMatches?: BoxMatches;
  @ApiProperty({
    example: '/v1/projects/…/iterations/…/test-runs/…/images/0',
    description:
      'The test image as it was tested (append /thumbnail for a small copy); uploaded photos have no imageId, so this is how to see them.',
  })
  imageUrl: string;
}

export class TestRunEmbeddingsDto {
  @ApiProperty({
    description:
      'Photos run through the backbone by this run (a classifier adds their embeddings to the project cache).',
  })
  computed: number;
  @ApiProperty({
    description:
      "Photos whose backbone features came from a cache instead: the project's embeddings (classifier), or the feature maps the iteration's training cached (detector).",
  })
  reused: number;
}

@ApiExtraModels(ClassificationMetricsWithApDto, MultilabelMetricsAtThresholdDto, DetectionMetricsAtThresholdDto)
export class TestRunDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ format: 'uuid' }) iterationId: string;
  @ApiProperty({ enum: ['requested', 'completed', 'failed', 'cancelled'] }) status: string;
  @ApiProperty({ enum: ['upload', 'split'] }) source: string;
  @ApiProperty() imageCount: number;
  @ApiProperty({
    // Nested: OpenAPI 3.0 wants a `type` beside `nullable`, which Nest drops beside a property's own oneOf.
    // (No discriminator there: openapi-typescript would read it as the parent's and drop `task`.)
    allOf: [{ type: 'object', nullable: true, oneOf: METRICS_WITH_AP_SCHEMA.oneOf }],
    description:
      "Once completed: the same metrics an iteration reports for validation ({accuracy, precision, recall, f1, perLabel with each label's ap, map, confusionMatrix}; for detection {threshold, overlapThreshold, precision, recall, f1, perLabel, map50, map}). Detection precision, recall and f1 count the boxes with probability ≥ `threshold`, as the per-image `boxMatches` do; mAP ranks every box whatever its probability.",
  })
  metrics: ClassificationMetricsWithApDto | MultilabelMetricsAtThresholdDto | DetectionMetricsAtThresholdDto | null;
  @ApiPropertyOptional({
    type: [TestPredictionDto],
    description: 'Per-image results, once completed (single test run only).',
  })
  predictions?: (TestPrediction & { imageUrl: string; boxMatches?: BoxMatches })[];
  @ApiPropertyOptional({ type: RunErrorDto, description: 'Why it failed.' }) error?: RunErrorDto;
  @ApiProperty({ format: 'date-time' }) requestedAt: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'When it completed, failed or was cancelled.' })
  completedAt?: string;
  @ApiPropertyOptional() durationMs?: number;
  @ApiPropertyOptional({
    type: TestRunEmbeddingsDto,
    description:
      'Once completed, for a model on a frozen backbone (backbone-classifier, backbone-detector): how many photos went through the backbone and how many were read from a cache (other models predict from the images).',
  })
  embeddings?: TestRunEmbeddingsDto;
  @ApiProperty() revision: number;
}

export class TestRunPageDto {
  @ApiProperty({ type: [TestRunDto] }) items: TestRunDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

/** `metrics`: the view's, with a classification's average precisions added (see TestRunsController.metricsWithAp). */
export function toTestRunDto(
  view: TestRunView,
  metrics: MetricsWithAp | null,
  predictions?: TestPrediction[],
): TestRunDto {
  const dto: TestRunDto = {
    id: view.id,
    projectId: view.projectId,
    iterationId: view.iterationId,
    status: view.status,
    source: view.source,
    imageCount: view.imageCount,
    metrics,
    requestedAt: view.requestedAt,
    revision: view.revision,
  };
  if (predictions)
    dto.predictions = predictions.map((prediction, position) => ({
      ...prediction,
      ...(view.task === 'detection' && Array.isArray(prediction.expected) && Array.isArray(prediction.predicted)
        ? {
            boxMatches: boxMatchesOf(
              prediction.expected as Exclude<TestPrediction['expected'], string | string[]>,
              prediction.predicted as Exclude<TestPrediction['predicted'], string | string[]>,
            ),
          }
        : {}),
      imageUrl: testRunImagePath(view, position),
    }));
  if (view.error) dto.error = view.error;
  if (view.completedAt) dto.completedAt = view.completedAt;
  if (view.durationMs !== null) dto.durationMs = view.durationMs;
  if (view.embeddings) dto.embeddings = view.embeddings;
  return dto;
}

export function testRunImagePath(run: Pick<TestRunView, 'projectId' | 'iterationId' | 'id'>, position: number): string {
  return `/v1/projects/${run.projectId}/iterations/${run.iterationId}/test-runs/${run.id}/images/${position}`;
}
