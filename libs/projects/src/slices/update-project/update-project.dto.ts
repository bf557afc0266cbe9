import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { MAX_DESCRIPTION_LENGTH, MAX_PROJECT_NAME_LENGTH } from '../../domain/project.decider.js';
import { trim } from '../create-project/create-project.dto.js';

/** The fields to change; those left out stay as they are. The type of a project cannot change. */
export class UpdateProjectDto {
  @ApiPropertyOptional({ example: 'Cats, dogs and foxes', minLength: 1, maxLength: MAX_PROJECT_NAME_LENGTH })
  @ValidateIf((_, value) => value !== undefined)
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_PROJECT_NAME_LENGTH)
  name?: string;

  @ApiPropertyOptional({
    type: String,
    maxLength: MAX_DESCRIPTION_LENGTH,
    nullable: true,
    description: 'An empty string or null clears it.',
  })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(MAX_DESCRIPTION_LENGTH)
  description?: string | null;
}
