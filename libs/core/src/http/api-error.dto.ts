import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The error body of every failed request. */
export class ApiErrorDto {
  @ApiProperty({ example: 404 })
  statusCode: number;

  @ApiProperty({ example: 'PROJECT_NOT_FOUND', description: 'Stable error code.' })
  code: string;

  @ApiProperty({ example: 'Project 0b6f… does not exist.' })
  message: string;

  @ApiPropertyOptional({ description: 'Structured details, e.g. the fields that failed validation.' })
  details?: unknown;

  @ApiPropertyOptional({
    example: 3,
    description: 'VALIDATION_FAILED: how many problems the request has in all; `details` lists the first 20.',
  })
  problemCount?: number;
}
