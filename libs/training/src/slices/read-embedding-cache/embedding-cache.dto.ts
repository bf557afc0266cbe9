import { ApiProperty } from '@nestjs/swagger';
import type { EmbeddingTableView } from '../../read-models/embedding-tables/embedding-table.view.js';

export class EmbeddingTableDto {
  @ApiProperty({ example: 'mobilenet-v2', description: 'The backbone whose features these are.' }) backbone: string;
  @ApiProperty({ example: 'block_13_expand_relu', description: 'The backbone layer the embeddings are pooled from.' })
  layer: string;
  @ApiProperty({
    example: 'resize-224-fill-range-0..1-avgpool',
    description: 'How images are prepared and features pooled.',
  })
  preprocessing: string;
  @ApiProperty({ description: 'Images whose embeddings are computed (each in the views training uses).' })
  imageCount: number;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class EmbeddingCacheDto {
  @ApiProperty({
    type: [EmbeddingTableDto],
    description: 'One table per backbone space; empty until the first background embeddings are done.',
  })
  items: EmbeddingTableDto[];
}

export function toEmbeddingTableDto(view: EmbeddingTableView): EmbeddingTableDto {
  return { ...view.space, imageCount: view.imageCount, updatedAt: view.updatedAt };
}
