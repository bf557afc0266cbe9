import { ApiProperty } from '@nestjs/swagger';

export class ArchitectureChoiceDto {
  @ApiProperty({
    example: 'backbone-classifier',
    description: "The architecture a run with architecture 'auto' trains, chosen from the included images now.",
  })
  architecture: string;

  @ApiProperty({
    example: 'photos (median shorter side 480 px ≥ 96): a pretrained backbone',
    description: 'Why: the median shorter side of the included images against the size from which they are photos.',
  })
  reason: string;

  @ApiProperty({ example: 120, description: 'Included images the choice was made from.' })
  imageCount: number;
}
