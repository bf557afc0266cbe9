import { ApiProperty } from '@nestjs/swagger';
import { CvPredictionDto } from '../../http/custom-vision.dto.js';

export const SORT_BY = ['UncertaintyAscending', 'UncertaintyDescending'] as const;
export type SortBy = (typeof SORT_BY)[number];

export class CvSuggestedTagAndRegionDto {
  @ApiProperty({ format: 'uuid', description: 'The image.' }) id: string;
  @ApiProperty({ format: 'uuid' }) project: string;
  @ApiProperty({ format: 'uuid' }) iteration: string;
  @ApiProperty({ format: 'date-time' }) created: string;
  @ApiProperty({ type: [CvPredictionDto] }) predictions: CvPredictionDto[];
  @ApiProperty({ example: 0.42, description: 'How unsure the iteration is (0 to 1): label the most unsure first.' })
  predictionUncertainty: number;
}

export class CvStoredSuggestedTagAndRegionDto extends CvSuggestedTagAndRegionDto {
  @ApiProperty({ example: 640 }) width: number;
  @ApiProperty({ example: 480 }) height: number;
  @ApiProperty() resizedImageUri: string;
  @ApiProperty() thumbnailUri: string;
  @ApiProperty() originalImageUri: string;
  @ApiProperty({ example: '' }) domain: string;
}

export class CvSuggestedTagAndRegionQueryTokenDto {
  @ApiProperty({ type: [String], description: 'Tag ids filtered on (none: any tag).' }) tagIds: string[];
  @ApiProperty({ example: 0, minimum: 0, maximum: 1 }) threshold: number;
  @ApiProperty() session: string;
  @ApiProperty({ type: String, nullable: true, description: 'Send the token back for the next page; null at the end.' })
  continuation: string | null;
  @ApiProperty({ example: 50, minimum: 1, maximum: 256 }) maxCount: number;
  @ApiProperty({ enum: SORT_BY }) sortBy: SortBy;
}

export class CvSuggestedTagAndRegionQueryResultDto {
  @ApiProperty({ type: CvSuggestedTagAndRegionQueryTokenDto }) token: CvSuggestedTagAndRegionQueryTokenDto;
  @ApiProperty({ type: [CvStoredSuggestedTagAndRegionDto] }) results: CvStoredSuggestedTagAndRegionDto[];
}
