import { CvString } from '../../http/input.js';
import { ApiProperty } from '@nestjs/swagger';

export class CvProjectExportDto {
  @ApiProperty({ example: 3 }) iterationCount: number;
  @ApiProperty({ example: 120 }) imageCount: number;
  @ApiProperty({ example: 2 }) tagCount: number;
  @ApiProperty({ example: 0 }) regionCount: number;
  @ApiProperty({ example: 6000, description: 'A rough estimate from the events and blobs to import.' })
  estimatedImportTimeInMS: number;
  @ApiProperty({ description: 'Pass it to ImportProject (?token=) on this server.' }) token: string;
}

/** GetArtifact's query. */
export class CvArtifactQueryDto {
  @CvString({
    required: true,
    maxLength: 200,
    description: 'The relative path: images/{imageId} or iterations/{iterationId}/model.',
  })
  path: string;
}

/** ImportProject's query. */
export class CvImportProjectQueryDto {
  @CvString({ required: true, description: 'The token ExportProject answered.' })
  token: string;

  @CvString({ description: "The new project's name (default: the exported project's)." })
  name?: string;
}
