import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { MAX_PROJECT_NAME_LENGTH, ProjectDto } from '@diyml/projects';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** The text fields of the multipart import. */
export class ImportProjectDto {
  @ApiPropertyOptional({
    maxLength: MAX_PROJECT_NAME_LENGTH,
    description: "A new name for the project (recorded as a rename); default: the exported project's name.",
  })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_PROJECT_NAME_LENGTH)
  name?: string;
}

export class ImportedDeploymentKeyDto {
  @ApiProperty({ format: 'uuid', description: "The deployment's new id." })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ description: 'Its new key, shown once: the key it had where it was exported does not work here.' })
  apiKey: string;

  @ApiProperty()
  keyPrefix: string;
}

export class ImportedProjectDto {
  @ApiProperty({ type: ProjectDto, description: 'The new project, with new ids, owned by you.' })
  project: ProjectDto;

  @ApiProperty({ format: 'uuid', description: "The project's id where it was exported." })
  sourceProjectId: string;

  @ApiProperty({ format: 'date-time' })
  exportedAt: string;

  @ApiProperty({ example: 412, description: 'Events written (the history as it was, with new ids).' })
  events: number;

  @ApiProperty({
    example: 130,
    description: 'Blobs stored (images, dataset manifests, models, evaluations, embeddings).',
  })
  blobs: number;

  @ApiProperty({ type: [ImportedDeploymentKeyDto], description: 'Every active deployment, with a new key.' })
  deployments: ImportedDeploymentKeyDto[];
}
