import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';

/** One invalid field of a VALIDATION_FAILED answer. */
export class FieldErrorDto {
  @ApiProperty({ example: 'name', description: 'The field, by its path in the request (`items.0.label`).' })
  field: string;
  @ApiProperty({ type: [String], example: ['name must be shorter than or equal to 100 characters'] })
  errors: string[];
}

/** The error body of every failed request. */
@ApiExtraModels(FieldErrorDto)
export class ApiErrorDto {
  @ApiProperty({ example: 404 })
  statusCode: number;

  @ApiProperty({ example: 'PROJECT_NOT_FOUND', description: 'Stable error code.' })
  code: string;

  @ApiProperty({ example: 'Project 0b6f… does not exist.' })
  message: string;

  @ApiPropertyOptional({
    oneOf: [
      { type: 'array', items: { $ref: getSchemaPath(FieldErrorDto) } },
      { type: 'object', additionalProperties: true },
    ],
    description:
      'VALIDATION_FAILED: the invalid fields (the first 20), each with its problems; other codes: an object of ' +
      'facts about the refusal (e.g. DATASET_NOT_READY: `problems`).',
  })
  details?: FieldErrorDto[] | Record<string, unknown>;

  @ApiPropertyOptional({
    example: 3,
    description: 'VALIDATION_FAILED: how many problems the request has in all; `details` lists the first 20.',
  })
  problemCount?: number;
}
