import { ApiProperty } from '@nestjs/swagger';
import { IsNumber, IsString, MaxLength, MinLength } from 'class-validator';
import type { LabelView } from '@diyml/projects';
import type { Region } from '../domain/image.events.js';
import { resolveLabel } from '../domain/label-reference.js';

export class RegionInputDto {
  @ApiProperty({ example: 'car', description: 'Label name (case-insensitive) or id.' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label: string;

  @ApiProperty({ example: 0.1, minimum: 0, maximum: 1, description: 'Left edge, fraction of the image width.' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  x: number;

  @ApiProperty({ example: 0.2, minimum: 0, maximum: 1, description: 'Top edge, fraction of the image height.' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  y: number;

  @ApiProperty({ example: 0.5, minimum: 0, maximum: 1, exclusiveMinimum: true, description: 'x + width <= 1.' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  width: number;

  @ApiProperty({ example: 0.4, minimum: 0, maximum: 1, exclusiveMinimum: true, description: 'y + height <= 1.' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  height: number;
}

export function toRegions(labels: readonly LabelView[], regions: readonly RegionInputDto[]): Region[] {
  return regions.map(({ label, x, y, width, height }) => ({
    labelId: resolveLabel(labels, label).id,
    x,
    y,
    width,
    height,
  }));
}
