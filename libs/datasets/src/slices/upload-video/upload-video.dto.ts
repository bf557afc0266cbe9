import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsNumber, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { SPLITS, type Split } from '../../domain/image.events.js';
import type { VideoView } from './videos.projection.js';

/** The text fields of the multipart video upload. */
export class UploadVideoDto {
  @ApiPropertyOptional({ minimum: 0.1, maximum: 30, default: 1, description: 'Frames taken per second of video.' })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0.1)
  @Max(30)
  framesPerSecond?: number;

  @ApiPropertyOptional({ description: 'Label (name or id) for every frame; classification projects only.' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label?: string;

  @ApiPropertyOptional({ enum: SPLITS, default: 'train' })
  @IsOptional()
  @IsIn(SPLITS)
  split?: Split;
}

export class VideoProgressDto {
  @ApiProperty({ example: 12 }) framesDone: number;
  @ApiProperty({
    example: 40,
    description: 'Frames the extraction takes: the rate over the duration, at most VIDEO_MAX_FRAMES.',
  })
  frameCount: number;
}

export class VideoErrorDto {
  @ApiProperty({ example: 'VIDEO_UNDECODABLE' }) code: string;
  @ApiProperty() reason: string;
}

export class VideoDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ example: 'walk.mp4' }) filename: string;
  @ApiProperty() sha256: string;
  @ApiProperty() bytes: number;
  @ApiProperty({ enum: ['mp4', 'webm'], description: 'mp4 covers MOV too (one container family).' }) container:
    'mp4' | 'webm';
  @ApiProperty({ example: 2000 }) durationMs: number;
  @ApiProperty() width: number;
  @ApiProperty() height: number;
  @ApiProperty({ example: 1 }) framesPerSecond: number;
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'The label every frame gets.' }) labelId:
    string | null;
  @ApiProperty({ enum: SPLITS }) split: Split;
  @ApiProperty({ enum: ['extracting', 'completed', 'failed'] }) status: string;
  @ApiProperty({ type: VideoProgressDto }) progress: VideoProgressDto;
  @ApiProperty({ description: 'Frames that became new images of the project.' }) created: number;
  @ApiProperty({ description: 'Frames skipped because the project already holds the same bytes.' }) duplicates: number;
  @ApiProperty({ description: 'Frames refused (e.g. over UPLOAD_MAX_PIXELS).' }) rejected: number;
  @ApiProperty({ type: VideoErrorDto, nullable: true }) error: VideoErrorDto | null;
  @ApiProperty({ format: 'date-time' }) uploadedAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) completedAt: string | null;
  @ApiProperty() revision: number;
}

export function toVideoDto(view: VideoView): VideoDto {
  return { ...view };
}
