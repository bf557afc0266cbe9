import { ApiProperty } from '@nestjs/swagger';
import type { CustomVisionDomain, DomainType } from '../../domain/domains.js';

export class CvModelInformationDto {
  @ApiProperty({ example: 1 }) estimatedModelSizeInMegabytes: number;
  @ApiProperty({ example: 'General' }) displayName: string;
  @ApiProperty() description: string;
}

export class CvDomainDto implements CustomVisionDomain {
  @ApiProperty({ format: 'uuid', description: "Azure's well-known id of the domain." }) id: string;
  @ApiProperty({ example: 'General (compact)' }) name: string;
  @ApiProperty({ enum: ['Classification', 'ObjectDetection'], description: 'The project type it chooses.' })
  type: DomainType;
  @ApiProperty({ example: true }) exportable: boolean;
  @ApiProperty({ example: true }) enabled: boolean;
  @ApiProperty({ type: [String], example: ['TensorFlow', 'ONNX'] }) exportablePlatforms: string[];
  @ApiProperty({ type: CvModelInformationDto, nullable: true }) modelInformation: CvModelInformationDto | null;
}
