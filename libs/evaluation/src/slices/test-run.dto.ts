import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { type BoxMatches, boxMatchesOf } from '../domain/box-matches.js';
import type { TestPrediction } from '../domain/test-manifest.js';
import type { TestRunView } from '../read-models/test-runs/test-run.view.js';

export class BoxMatchesDto implements BoxMatches {
  @ApiProperty({ example: 0.5, description: 'Found boxes count from this probability (those listed in `predicted`).' })
  scoreThreshold: number;
  @ApiProperty({
    example: 0.5,
    description: 'A found box matches a labelled box of its label that it overlaps by at least this IoU.',
  })
  overlapThreshold: number;
  @ApiProperty({ example: 1, description: 'Labelled boxes a found box matched.' }) matched: number;
  @ApiProperty({ example: 0, description: 'Labelled boxes no found box matched.' }) missed: number;
  @ApiProperty({
    example: 0,
    description: 'Found boxes that matched no labelled box (wrong place or label, or a second box on one object).',
  })
  falsePositives: number;
}

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
    description: 'Classification: the expected label; detection: the expected boxes [{label, x, y, width, height}].',
  })
  expected: TestPrediction['expected'];
  @ApiProperty({
    description:
      'Classification: the most probable label; detection: the boxes found with probability ≥ 0.5 (`boxMatches.scoreThreshold`).',
  })
  predicted: TestPrediction['predicted'];
  @ApiProperty({
    example: 0.93,
    description:
      'Classification: the probability of `predicted`; detection: the probability of the most probable box, listed in `predicted` or not (0 without boxes).',
  })
  confidence: number;
  @ApiPropertyOptional({
    description: 'Classification: whether the prediction is the expected label (detection: absent, compare the boxes).',
  })
  correct?: boolean;
  @ApiPropertyOptional({
    type: BoxMatchesDto,
    description:
      "Detection: the labelled boxes matched and missed and the false boxes, counting the boxes in `predicted` only; summed over the images they are the run's precision and recall at the same thresholds. AP (mAP@50) ranks every box whatever its probability, so it is a run-level figure with no per-image counterpart.",
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

export class TestRunDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ format: 'uuid' }) iterationId: string;
  @ApiProperty({ enum: ['requested', 'completed', 'failed', 'cancelled'] }) status: string;
  @ApiProperty({ enum: ['upload', 'split'] }) source: string;
  @ApiProperty() imageCount: number;
  @ApiProperty({
    nullable: true,
    type: Object,
    description:
      'Once completed: the same metrics training reports for validation ({accuracy, precision, recall, f1, perLabel, confusionMatrix}; for detection {threshold, overlapThreshold, precision, recall, f1, perLabel, map50, map}). Detection precision, recall and f1 count the boxes with probability ≥ `threshold`, as the per-image `boxMatches` do; mAP ranks every box whatever its probability.',
  })
  metrics: Record<string, unknown> | null;
  @ApiPropertyOptional({
    type: [TestPredictionDto],
    description: 'Per-image results, once completed (single test run only).',
  })
  predictions?: (TestPrediction & { imageUrl: string; boxMatches?: BoxMatches })[];
  @ApiPropertyOptional({ description: 'Why it failed.' }) error?: { code: string; reason: string };
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

export function toTestRunDto(view: TestRunView, predictions?: TestPrediction[]): TestRunDto {
  const dto: TestRunDto = {
    id: view.id,
    projectId: view.projectId,
    iterationId: view.iterationId,
    status: view.status,
    source: view.source,
    imageCount: view.imageCount,
    metrics: view.metrics,
    requestedAt: view.requestedAt,
    revision: view.revision,
  };
  if (predictions)
    dto.predictions = predictions.map((prediction, position) => ({
      ...prediction,
      ...(Array.isArray(prediction.expected) && Array.isArray(prediction.predicted)
        ? { boxMatches: boxMatchesOf(prediction.expected, prediction.predicted) }
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
