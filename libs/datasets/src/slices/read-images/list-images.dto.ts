import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { PageQueryDto } from '@diyml/core';
import { AS_OF_DESCRIPTION } from '../../http/as-of-query.dto.js';
import { SPLITS, type Split } from '../../domain/image.events.js';

const toBoolean = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

export class ListImagesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only images with this label (name or id), as the label or in a box.' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label?: string;

  @ApiPropertyOptional({ description: 'true: only images without label or boxes; false: only labeled ones.' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  unlabeled?: boolean;

  @ApiPropertyOptional({ enum: SPLITS, description: 'Only images in this split.' })
  @IsOptional()
  @IsIn(SPLITS)
  split?: Split;

  @ApiPropertyOptional({ description: 'true: only images used for training; false: only excluded ones.' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  included?: boolean;

  @ApiPropertyOptional({
    description: 'Only images with this metadata entry, as key=value (the value may be empty).',
    example: 'camera=north-gate',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[^=]+=/, { message: 'metadata must be key=value, e.g. camera=north-gate' })
  @MaxLength(400)
  metadata?: string;

  @ApiPropertyOptional({ description: AS_OF_DESCRIPTION, example: '2026-11-22T10:00:00.000Z' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  asOf?: string;
}
