import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, MaxLength, MinLength } from 'class-validator';
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
