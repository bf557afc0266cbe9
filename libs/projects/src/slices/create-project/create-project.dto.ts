import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { MAX_DESCRIPTION_LENGTH, MAX_PROJECT_NAME_LENGTH } from '../../domain/project.decider.js';
import { PROJECT_TYPES, type ProjectType } from '../../domain/project-type.js';

/** Trims strings (other values are left for the validators to refuse). */
export const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateProjectDto {
  @ApiProperty({ example: 'Cats and dogs', minLength: 1, maxLength: MAX_PROJECT_NAME_LENGTH, description: 'Trimmed.' })
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_PROJECT_NAME_LENGTH)
  name: string;

  @ApiProperty({
    enum: PROJECT_TYPES,
    description:
      'classification: one label per image; multilabel: any number of labels per image, each with its own ' +
      'probability; detection: labeled boxes.',
  })
  @IsIn(PROJECT_TYPES, { message: `type must be one of ${PROJECT_TYPES.join(', ')}` })
  type: ProjectType;

  @ApiPropertyOptional({
    example: 'Tell my cat from the neighbour’s dog.',
    maxLength: MAX_DESCRIPTION_LENGTH,
    default: '',
  })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(MAX_DESCRIPTION_LENGTH)
  description?: string;
}
