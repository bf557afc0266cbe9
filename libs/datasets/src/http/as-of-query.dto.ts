import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export const AS_OF_DESCRIPTION =
  'Answer as the dataset was at this moment: an ISO-8601 time (e.g. the `queuedAt` of an iteration) or a log ' +
  'position (a `position` from the history). Computed from the log; 400 INVALID_AS_OF otherwise.';

export class AsOfQueryDto {
  @ApiPropertyOptional({ description: AS_OF_DESCRIPTION, example: '2026-11-22T10:00:00.000Z' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  asOf?: string;
}
