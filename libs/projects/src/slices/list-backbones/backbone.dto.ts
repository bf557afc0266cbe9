import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FeatureLayerDto {
  @ApiProperty({ example: 'block_13_expand_relu' })
  name: string;

  @ApiProperty({ type: 'integer', example: 16, description: 'Input pixels per feature-map cell.' })
  stride: number;

  @ApiProperty({ type: 'integer', example: 576 })
  channels: number;
}

export class WeightSourceDto {
  @ApiProperty({
    enum: ['npm-package', 'url', 'model'],
    description:
      'npm-package: shipped inside an installed npm package (offline); url: downloaded once into DATA_DIR/backbones and sha256-verified; model: registered by the installation from a model it holds.',
  })
  kind: 'npm-package' | 'url' | 'model';

  @ApiPropertyOptional({ example: 'nsfwjs', description: 'npm-package: the package holding the weights.' })
  package?: string;

  @ApiPropertyOptional({
    example: 'https://example.org/backbones/model.json',
    description: 'url: where model.json is fetched from.',
  })
  url?: string;
}

export class BackboneDto {
  @ApiProperty({ example: 'mobilenet-v2', description: 'What trainingConfig.backbone names.' })
  id: string;

  @ApiProperty()
  description: string;

  @ApiProperty({ example: 'MIT' })
  licence: string;

  @ApiProperty({ type: 'integer', example: 224, description: 'Images are resized to inputSize × inputSize RGB.' })
  inputSize: number;

  @ApiProperty({
    type: [Number],
    example: [0, 1],
    description: 'Pixel values are mapped linearly from [0, 255] to this range.',
  })
  inputRange: [number, number];

  @ApiProperty({ type: [FeatureLayerDto], description: 'Layers features can be read from, shallow to deep.' })
  featureLayers: FeatureLayerDto[];

  @ApiProperty({
    example: 'block_13_expand_relu',
    description: 'The layer whose pooled activations classification heads learn from.',
  })
  embeddingLayer: string;

  @ApiProperty({ type: WeightSourceDto })
  source: WeightSourceDto;

  @ApiProperty({ description: 'Whether trainingConfig.backbone null means this one.' })
  isDefault: boolean;
}
