import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsISO8601, IsOptional, ValidateNested } from 'class-validator';
import { CvPredictionDto } from '../../http/custom-vision.dto.js';
import { CvEnum, CvInteger, CvNumber, CvString, CvUuid, CvUuidList } from '../../http/input.js';

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
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) iterationId?: string | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) startTime?: string | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) endTime?: string | null;
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

const MAX_QUERY_TAGS = 2;

export class CvPredictionQueryTagInputDto {
  @CvUuid({ required: true, description: 'A tag of the project.' })
  id: string;

  @CvNumber({ min: 0, max: 1, description: 'Only predictions of the tag at least this probable.' })
  minThreshold?: number;

  @CvNumber({ min: 0, max: 1, description: 'Only predictions of the tag at most this probable.' })
  maxThreshold?: number;
}

/** QueryPredictions' body (Azure's PredictionQueryToken); send the answer's token back for the next page. */
export class CvPredictionQueryTokenInputDto {
  @CvString({ description: 'Accepted and sent back.' })
  session?: string;

  @CvString({ description: 'The continuation of the previous answer (empty: the first page).' })
  continuation?: string;

  @CvInteger({ min: 1, max: 256, default: 50, description: 'Predictions per page.' })
  maxCount?: number;

  @CvEnum(['Newest', 'Oldest', 'Suggested'], {
    default: 'Newest',
    description: 'Newest or Oldest first; Suggested is answered newest first.',
  })
  orderBy?: 'Newest' | 'Oldest' | 'Suggested';

  @ApiPropertyOptional({
    type: [CvPredictionQueryTagInputDto],
    maxItems: MAX_QUERY_TAGS,
    description: 'At most 2 tags, with their probability ranges.',
  })
  @IsOptional()
  @IsArray({ message: '$property must be a list of tags' })
  @ArrayMaxSize(MAX_QUERY_TAGS, { message: `$property combines at most ${MAX_QUERY_TAGS}` })
  @ValidateNested({ each: true })
  @Type(() => CvPredictionQueryTagInputDto)
  tags?: CvPredictionQueryTagInputDto[];

  @CvUuid({ nullable: true, description: 'Only predictions of this iteration.' })
  iterationId?: string | null;

  @CvString({ format: 'date-time', nullable: true, description: 'Only predictions stored at or after this time.' })
  @IsISO8601({}, { message: '$property must be an ISO 8601 date-time' })
  startTime?: string | null;

  @CvString({ format: 'date-time', nullable: true, description: 'Only predictions stored before this time.' })
  @IsISO8601({}, { message: '$property must be an ISO 8601 date-time' })
  endTime?: string | null;

  @CvString({ maxLength: 100, description: 'Accepted and sent back: predictions are not stored by application.' })
  application?: string;
}

/** DeletePrediction's query. */
export class CvDeletePredictionQueryDto {
  @CvUuidList({ required: true, max: 64, description: 'Stored predictions of the project (others are ignored).' })
  ids: string[];
}
