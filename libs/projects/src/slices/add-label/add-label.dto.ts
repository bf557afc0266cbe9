import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { MAX_LABEL_NAME_LENGTH } from '../../domain/project.decider.js';
import { trim } from '../create-project/create-project.dto.js';

/** A label's name: trimmed, unique in its project regardless of case. */
export class LabelNameDto {
  @ApiProperty({
    example: 'cat',
    minLength: 1,
    maxLength: MAX_LABEL_NAME_LENGTH,
    description: 'Unique in the project, ignoring case.',
  })
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_LABEL_NAME_LENGTH)
  name: string;
}

/** A new label: its name, and whether it is the project's negative label. */
export class AddLabelDto extends LabelNameDto {
  @ApiProperty({
    required: false,
    default: false,
    description:
      'Add it as the negative label ("none of the others"): at most one per project (409 NEGATIVE_LABEL_EXISTS), ' +
      'never in detection projects (400 NEGATIVE_LABEL_NOT_FOR_DETECTION); an image carries it alone.',
  })
  @IsOptional()
  @IsBoolean()
  negative?: boolean;
}
