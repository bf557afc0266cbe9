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
