import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CvPredictionDto } from '../../http/custom-vision.dto.js';

export class CvPredictionQueryTagDto {
  @ApiPropertyOptional({ format: 'uuid' }) id?: string;
  @ApiPropertyOptional({ minimum: 0, maximum: 1 }) minThreshold?: number;
  @ApiPropertyOptional({ minimum: 0, maximum: 1 }) maxThreshold?: number;
}

/** The query as sent, with `maxCount` and the `continuation` of the next page filled in. */
export class CvPredictionQueryTokenDto {
  @ApiPropertyOptional() session?: string;
  @ApiPropertyOptional({ description: 'Send it back for the next page; empty on the last page.' })
  continuation?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 256 }) maxCount?: number;
  @ApiPropertyOptional({ enum: ['Newest', 'Oldest', 'Suggested'] }) orderBy?: 'Newest' | 'Oldest' | 'Suggested';
  @ApiPropertyOptional({ type: [CvPredictionQueryTagDto] }) tags?: CvPredictionQueryTagDto[];
  @ApiPropertyOptional({ format: 'uuid' }) iterationId?: string;
  @ApiPropertyOptional({ format: 'date-time' }) startTime?: string;
  @ApiPropertyOptional({ format: 'date-time' }) endTime?: string;
  @ApiPropertyOptional() application?: string;
}

export class CvStoredImagePredictionDto {
  @ApiProperty({ description: 'The stored picture (this server keeps no resized copy).' }) resizedImageUri: string;
  @ApiProperty() thumbnailUri: string;
  @ApiProperty() originalImageUri: string;
  @ApiProperty({ example: '' }) domain: string;
  @ApiProperty({ format: 'uuid', description: 'The stored prediction’s id.' }) id: string;
  @ApiProperty({ format: 'uuid' }) project: string;
  @ApiProperty({ format: 'uuid' }) iteration: string;
  @ApiProperty({ format: 'date-time' }) created: string;
  @ApiProperty({ type: [CvPredictionDto] }) predictions: CvPredictionDto[];
}

export class CvPredictionQueryResultDto {
  @ApiProperty({ type: CvPredictionQueryTokenDto }) token: CvPredictionQueryTokenDto;
  @ApiProperty({ type: [CvStoredImagePredictionDto] }) results: CvStoredImagePredictionDto[];
}
