import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiProperty, getSchemaPath, OmitType } from '@nestjs/swagger';

export class LabelMetricsDto {
  @ApiProperty({ example: 'cat' }) label: string;
  @ApiProperty({ description: 'Share of the predictions of this label that were right (0 if never predicted).' })
  precision: number;
  @ApiProperty({ description: 'Share of the examples of this label that were found (0 if never expected).' })
  recall: number;
  @ApiProperty() f1: number;
  @ApiProperty({ description: 'Validation examples that truly carry this label.' }) support: number;
}

export class ConfusionMatrixDto {
  @ApiProperty({ type: [String], description: 'Row and column order of `matrix`.' }) labels: string[];
  @ApiProperty({
    type: 'array',
    items: { type: 'array', items: { type: 'integer' } },
    description: '`matrix[expected][predicted]`: validation images of each expected label, by predicted label.',
    example: [
      [5, 1],
      [0, 6],
    ],
  })
  matrix: number[][];
  @ApiProperty({
    type: [Number],
    description: 'Per expected label: images whose best probability fell below the threshold (no prediction).',
  })
  noPrediction: number[];
}

/** Classification metrics as training records them (argmax, no threshold). */
export class ClassificationMetricsDto {
  @ApiProperty({ description: 'Share of validation images whose prediction is their label.' }) accuracy: number;
  @ApiProperty({ description: 'Macro average over the labels expected or predicted at least once.' })
  precision: number;
  @ApiProperty({ description: 'Macro average, as precision.' }) recall: number;
  @ApiProperty({ description: 'Macro average, as precision.' }) f1: number;
  @ApiProperty({ type: [LabelMetricsDto] }) perLabel: LabelMetricsDto[];
  @ApiProperty({ type: ConfusionMatrixDto }) confusionMatrix: ConfusionMatrixDto;
}

export class DetectionLabelMetricsDto {
  @ApiProperty({ example: 'cat' }) label: string;
  @ApiProperty({ description: 'Average precision of this label at the overlap threshold.' }) ap: number;
  @ApiProperty({
    description: 'Share of the boxes found with this label (scoring at least the threshold) that are right.',
  })
  precision: number;
  @ApiProperty({ description: 'Share of the ground-truth boxes of this label that were found.' }) recall: number;
  @ApiProperty() f1: number;
  @ApiProperty({ description: 'Ground-truth boxes carrying this label.' }) support: number;
}

/** Detection metrics as training records them (score 0.5, IoU 0.5). */
export class DetectionMetricsDto {
  @ApiProperty({
    description: 'Macro average over the labels with ground truth, of boxes scoring at least the threshold.',
  })
  precision: number;
  @ApiProperty({ description: 'Macro average, as precision.' }) recall: number;
  @ApiProperty({ description: 'Macro average, as precision.' }) f1: number;
  @ApiProperty({ type: [DetectionLabelMetricsDto] }) perLabel: DetectionLabelMetricsDto[];
  @ApiProperty({ description: 'Mean average precision at the overlap threshold.' }) mapAtOverlapThreshold: number;
  @ApiProperty({ description: 'Mean average precision at IoU 0.5.' }) map50: number;
  @ApiProperty({ description: 'Mean average precision averaged over IoU 0.50, 0.55, …, 0.95 (COCO).' }) map: number;
}

export class MultilabelLabelMetricsDto {
  @ApiProperty({ example: 'outdoor' }) label: string;
  @ApiProperty({ description: 'Average precision of this label, ranking the images by its probability.' }) ap: number;
  @ApiProperty({ description: 'Share of the images given this label (probability ≥ threshold) that carry it.' })
  precision: number;
  @ApiProperty({ description: 'Share of the images carrying this label that were given it.' }) recall: number;
  @ApiProperty() f1: number;
  @ApiProperty({ description: 'Validation images that carry this label.' }) support: number;
}

/** Multilabel metrics as training records them (probability 0.5, Custom Vision's default). */
export class MultilabelMetricsDto {
  @ApiProperty({ description: 'Over every (image, label) given at the threshold: the share that is right.' })
  precision: number;
  @ApiProperty({ description: 'Over every label the images carry: the share given at the threshold.' })
  recall: number;
  @ApiProperty() f1: number;
  @ApiProperty({ description: 'Mean of the per-label APs over the labels some image carries.' }) map: number;
  @ApiProperty({ description: 'Share of images whose labels at the threshold are exactly their labels.' })
  exactMatch: number;
  @ApiProperty({ type: [MultilabelLabelMetricsDto] }) perLabel: MultilabelLabelMetricsDto[];
}

export class MultilabelMetricsAtThresholdDto extends MultilabelMetricsDto {
  @ApiProperty({ enum: ['multilabel'] }) task: 'multilabel';
  @ApiProperty({ description: 'A label counts as given to an image when its probability is at least this.' })
  threshold: number;
}

export class ClassificationMetricsAtThresholdDto extends ClassificationMetricsDto {
  @ApiProperty({ enum: ['classification'] }) task: 'classification';
  @ApiProperty({ description: 'Probabilities below it count as no prediction (0: always the most probable).' })
  threshold: number;
}

export class DetectionMetricsAtThresholdDto extends DetectionMetricsDto {
  @ApiProperty({ enum: ['detection'] }) task: 'detection';
  @ApiProperty({ description: 'Boxes scoring below it are not counted as found (mAP ranks every box).' })
  threshold: number;
  @ApiProperty({ description: 'IoU from which a box matches a ground-truth box.' }) overlapThreshold: number;
}

export class ClassificationLabelMetricsWithApDto extends LabelMetricsDto {
  @ApiProperty({
    description: 'Average precision of this label, ranking the images by its probability (whatever the threshold).',
  })
  ap: number;
}

/** Classification metrics as the API answers them: at the thresholds, with each label's average precision and their mean. */
export class ClassificationMetricsWithApDto extends OmitType(ClassificationMetricsAtThresholdDto, [
  'perLabel',
] as const) {
  @ApiProperty({ type: [ClassificationLabelMetricsWithApDto] }) perLabel: ClassificationLabelMetricsWithApDto[];
  @ApiProperty({ description: 'Mean of the per-label APs over the labels some image carries.' }) map: number;
}

/** Metrics at the request's thresholds, of either task (`task` tells which), with AP for classification too. */
export const METRICS_WITH_AP_SCHEMA = {
  oneOf: [
    { $ref: getSchemaPath(ClassificationMetricsWithApDto) },
    { $ref: getSchemaPath(MultilabelMetricsAtThresholdDto) },
    { $ref: getSchemaPath(DetectionMetricsAtThresholdDto) },
  ],
  discriminator: {
    propertyName: 'task',
    mapping: {
      classification: getSchemaPath(ClassificationMetricsWithApDto),
      multilabel: getSchemaPath(MultilabelMetricsAtThresholdDto),
      detection: getSchemaPath(DetectionMetricsAtThresholdDto),
    },
  },
};

/** Documents an answer of metrics at thresholds (an iteration's validation images, a test run's images). */
export function ApiMetricsWithApResponse(description: string): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(ClassificationMetricsWithApDto, MultilabelMetricsAtThresholdDto, DetectionMetricsAtThresholdDto),
    ApiOkResponse({ description, schema: METRICS_WITH_AP_SCHEMA }),
  );
}
