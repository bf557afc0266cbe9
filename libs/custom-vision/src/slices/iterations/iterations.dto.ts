import { ApiProperty } from '@nestjs/swagger';
import type { CvIterationPerformance, CvTagPerformance } from '../../domain/performance.js';

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
