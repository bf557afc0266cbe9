import { ApiProperty } from '@nestjs/swagger';
import { CvImageTagDto, CvPredictionDto, CvRegionDto } from '../../http/custom-vision.dto.js';
import { AZURE_IMAGE_ORDER, CvEnum, CvInteger, CvUuidList } from '../../http/input.js';

/** Custom Vision's ImagePerformance: a validation image with its tags or regions and what the iteration predicted. */
export class CvImagePerformanceDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time' }) created: string;
  @ApiProperty({ example: 640 }) width: number;
  @ApiProperty({ example: 480 }) height: number;
  @ApiProperty() imageUri: string;
  @ApiProperty() thumbnailUri: string;
  @ApiProperty({ type: [CvImageTagDto], nullable: true, description: 'Classification: its tag; else null.' })
  tags: CvImageTagDto[] | null;
  @ApiProperty({ type: [CvRegionDto], nullable: true, description: 'Object detection: its regions; else null.' })
  regions: CvRegionDto[] | null;
  @ApiProperty({ type: [CvPredictionDto], description: 'What the iteration predicted for it.' })
  predictions: CvPredictionDto[];
}

const TAG_FILTER = 'Validation images expected to have any of these tags (or a region of one).';

/** GetImagePerformanceCount's query. */
export class CvImagePerformanceCountQueryDto {
  @CvUuidList({ description: TAG_FILTER })
  tagIds?: string[];
}

/** GetImagePerformances' query. */
export class CvImagePerformancesQueryDto {
  @CvUuidList({ max: 20, description: TAG_FILTER })
  tagIds?: string[];

  @CvEnum(AZURE_IMAGE_ORDER, { default: 'Newest', description: 'Upload order, newest first by default.' })
  orderBy?: 'Newest' | 'Oldest';

  @CvInteger({ min: 0, max: 256, default: 50, description: 'How many images to answer (at most 256).' })
  take?: number;

  @CvInteger({ default: 0, description: 'How many images to skip first.' })
  skip?: number;
}
