import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { MAX_DESCRIPTION_LENGTH, MAX_PROJECT_NAME_LENGTH } from '../../domain/project.decider.js';
import { PROJECT_TYPES, type ProjectType } from '../../domain/project-type.js';
import { trim } from '../create-project/create-project.dto.js';

/** The fields to change; those left out stay as they are. */
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

  @ApiPropertyOptional({
    enum: PROJECT_TYPES,
    description:
      "Switch between classification (one label per image) and multilabel (several), as Custom Vision's " +
      'classificationType: images keep their labels. To classification only while no image carries several labels ' +
      '(409 IMAGES_HAVE_SEVERAL_LABELS, naming them); detection projects never change type, nor does a project ' +
      'become one (400 PROJECT_TYPE_CHANGE_NOT_SUPPORTED). Iterations trained before keep their type.',
  })
  @IsOptional()
  @IsIn(PROJECT_TYPES, { message: `type must be one of ${PROJECT_TYPES.join(', ')}` })
  type?: ProjectType;
}
