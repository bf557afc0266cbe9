import { ApiProperty } from '@nestjs/swagger';
import { CvImageTagDto, CvPredictionDto, CvRegionDto } from '../../http/custom-vision.dto.js';

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
