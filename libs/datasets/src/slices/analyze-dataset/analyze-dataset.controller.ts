import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, ClientGone, CurrentUser, UuidParam } from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import { analyzeDataset, type DatasetAnalysis, READINESS_RULES } from '../../domain/dataset-analysis.js';
import { ImageLabelDto } from '../../http/image.dto.js';
import { AsOfQueryDto } from '../../http/as-of-query.dto.js';
import { DatasetAsOf } from '../../read-models/images/dataset-as-of.js';
import { DatasetQueries } from '../../read-models/images/dataset-queries.js';

class IssueDto {
  @ApiProperty({ example: 'TOO_FEW_IMAGES' })
  code: string;

  @ApiProperty({ example: 'Label "cat" has 3 included training images; it needs at least 5.' })
  message: string;

  @ApiPropertyOptional({ type: ImageLabelDto })
  label?: ImageLabelDto;

  @ApiPropertyOptional({ example: 3 })
  count?: number;

  @ApiPropertyOptional({ example: 5 })
  required?: number;
}

class LabelCountDto {
  @ApiProperty({ type: ImageLabelDto })
  label: ImageLabelDto;

  @ApiProperty({ description: 'Images using the label (as label or in a box).' })
  count: number;

  @ApiProperty({ description: 'Included train images using it.' })
  trainCount: number;

  @ApiPropertyOptional({ description: 'Detection: boxes with this label.' })
  boxes?: number;

  @ApiPropertyOptional({ description: 'Detection: boxes in included train images.' })
  trainBoxes?: number;
}

class SizeStatsDto {
  @ApiProperty() min: number;
  @ApiProperty() median: number;
  @ApiProperty() max: number;
}

class HistogramBucketDto {
  @ApiProperty({ type: Number, nullable: true, description: 'Longer side up to this many pixels; null: larger.' })
  upTo: number | null;

  @ApiProperty()
  count: number;
}

class ImageSizesDto {
  @ApiProperty({ type: SizeStatsDto, nullable: true }) width: SizeStatsDto | null;
  @ApiProperty({ type: SizeStatsDto, nullable: true }) height: SizeStatsDto | null;
  @ApiProperty({ type: [HistogramBucketDto] }) histogram: HistogramBucketDto[];
}

class DuplicateImageDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() filename: string;
}

class DuplicateGroupDto {
  @ApiProperty({ type: [DuplicateImageDto] }) images: DuplicateImageDto[];
}

class DuplicatesDto {
  @ApiProperty({
    description: 'Images that look like another image of the project (same picture re-encoded or resized).',
  })
  count: number;

  @ApiProperty({ type: [DuplicateGroupDto], description: 'Up to 50 groups.' })
  groups: DuplicateGroupDto[];
}

class SplitCountsDto {
  @ApiProperty() train: number;
  @ApiProperty() validation: number;
  @ApiProperty() test: number;
}

export class DatasetAnalysisDto implements DatasetAnalysis {
  @ApiProperty() imageCount: number;
  @ApiProperty() labeledCount: number;
  @ApiProperty() unlabeledCount: number;
  @ApiProperty({ description: 'Images excluded from training.' }) excludedCount: number;
  @ApiProperty({ type: SplitCountsDto }) splits: SplitCountsDto;
  @ApiProperty({ type: [LabelCountDto] }) perLabel: LabelCountDto[];
  @ApiProperty({ type: ImageSizesDto }) imageSizes: ImageSizesDto;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { png: 120, jpeg: 80 } })
  formats: Record<string, number>;
  @ApiProperty({ type: DuplicatesDto }) duplicates: DuplicatesDto;
  @ApiProperty({
    type: [IssueDto],
    description: 'Worth fixing, but training can start (CLASS_IMBALANCE, DUPLICATES, MANY_UNLABELED).',
  })
  warnings: IssueDto[];
  @ApiProperty({ description: 'Whether training can start.' }) ready: boolean;
  @ApiProperty({
    type: [IssueDto],
    description: 'Why training cannot start (TOO_FEW_LABELS, TOO_FEW_IMAGES, TOO_FEW_BOXES).',
  })
  problems: IssueDto[];
}

@ApiTags('images')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/analysis')
export class AnalyzeDatasetController {
  constructor(
    private readonly access: ProjectAccess,
    private readonly queries: DatasetQueries,
    private readonly asOf: DatasetAsOf,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'analyzeDataset',
    summary: 'Analyse the dataset before training: counts, sizes, formats, duplicates, readiness',
    description:
      `Ready when: classification has at least ${READINESS_RULES.minLabelsClassification} labels, each on at least ` +
      `${READINESS_RULES.minImagesPerLabel} included train images; detection has at least ${READINESS_RULES.minLabelsDetection} label, ` +
      `each with at least ${READINESS_RULES.minBoxesPerLabel} boxes in included train images. Warns when the most frequent ` +
      `label has more than ${READINESS_RULES.imbalanceRatio}x the examples of the rarest.`,
  })
  @ApiOkResponse({ type: DatasetAnalysisDto })
  @ApiErrors(400, 401, 404)
  async analyze(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: AsOfQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @ClientGone() clientGone: AbortSignal,
  ): Promise<DatasetAnalysisDto> {
    const current = await this.access.getOwned(projectId, user.id);
    if (query.asOf) {
      const then = await this.asOf.at(projectId, query.asOf, clientGone);
      return analyzeDataset(then.project, await then.queries.listAll(projectId));
    }
    return analyzeDataset(current, await this.queries.listAll(projectId));
  }
}
