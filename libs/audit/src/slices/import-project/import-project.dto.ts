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

export const IMPORT_STATUSES = ['pending', 'done', 'failed'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

export class ImportErrorDto {
  @ApiProperty({
    example: 'CORRUPT_PROJECT_ARCHIVE',
    description: 'The stable code the import would have answered with (see POST /v1/projects/import).',
  })
  code: string;

  @ApiProperty({ example: 'The project archive is damaged: blobs/3a7b… does not hold the bytes its name says.' })
  message: string;

  @ApiPropertyOptional({ description: 'Structured details, as in the error body of the synchronous answer.' })
  details?: unknown;
}

export class ProjectImportStatusDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: IMPORT_STATUSES, description: 'pending (being imported), done or failed.' })
  status: ImportStatus;

  @ApiProperty({ example: 1_073_741_824, description: 'Size of the uploaded archive.' })
  archiveBytes: number;

  @ApiProperty({ format: 'date-time' })
  startedAt: string;

  @ApiPropertyOptional({ format: 'date-time' })
  finishedAt?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'done: the new project.' })
  projectId?: string;

  @ApiPropertyOptional({
    type: ImportedProjectDto,
    description:
      'done: what the synchronous import answers, with the deployments’ new keys. Given by the first status read that reports ' +
      'done only (keys are shown once); later reads have projectId alone.',
  })
  imported?: ImportedProjectDto;

  @ApiPropertyOptional({
    type: ImportErrorDto,
    description: 'failed: why (a refused archive leaves no trace of the project).',
  })
  error?: ImportErrorDto;
}
