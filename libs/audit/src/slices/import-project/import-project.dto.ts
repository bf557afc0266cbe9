import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { MAX_PROJECT_NAME_LENGTH, ProjectDto } from '@diyml/projects';
import { IMPORT_PHASES, type ImportPhase, type ImportProgress } from '../../domain/import-run.events.js';
import type { ImportedContents } from './imported-contents.js';

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

export class ImportedContentsDto implements ImportedContents {
  @ApiProperty({ type: 'integer', example: 1200, description: 'Images the project holds (removed images left out).' })
  images: number;

  @ApiProperty({
    type: 'integer',
    example: 1150,
    description: 'Of those, images with a whole-image label or at least one region.',
  })
  labeledImages: number;

  @ApiProperty({ type: 'integer', example: 4, description: 'Labels (tags) of the project.' })
  labels: number;

  @ApiProperty({
    type: 'integer',
    example: 1150,
    description:
      "Whole-image labels on images: a classified image's label, each label of a multilabel image (0 for detection).",
  })
  imageLabels: number;

  @ApiProperty({ type: 'integer', example: 0, description: 'Boxes on images (detection).' })
  regions: number;

  @ApiProperty({
    type: 'integer',
    example: 3,
    description: 'Iterations (trained or imported models, deleted ones left out).',
  })
  iterations: number;

  @ApiProperty({ type: 'integer', example: 1, description: 'Active deployments, each with a new key (`deployments`).' })
  deployments: number;
}

export class ImportSkippedDto {
  @ApiProperty({
    type: 'integer',
    example: 0,
    description:
      'Blobs the archive carries that no event references: passed over, not stored. Events are never skipped: ' +
      'an archive with one this installation cannot take is refused whole.',
  })
  unreferencedBlobs: number;
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

  @ApiProperty({
    type: ImportedContentsDto,
    description: 'What the new project holds, as its image, label and iteration lists show it.',
  })
  contents: ImportedContentsDto;

  @ApiProperty({ type: ImportSkippedDto, description: 'What the archive carried that was not imported.' })
  skipped: ImportSkippedDto;
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

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    properties: {
      path: {
        type: 'string',
        example: 'events/000001.jsonl',
        description: 'CORRUPT_PROJECT_ARCHIVE and the ARCHIVE_* limits: the archive entry at fault.',
      },
      event: {
        type: 'integer',
        example: 17,
        description: 'CORRUPT_PROJECT_ARCHIVE: the event at fault, counted from 1 in the order of the archive.',
      },
      unknownEvents: {
        type: 'array',
        items: { type: 'string' },
        example: ['IterationQueued@2'],
        description: 'UNKNOWN_EVENT_VERSIONS: `type@v` of the events this installation cannot read (the first 50).',
      },
      missingBlobs: {
        type: 'array',
        items: { type: 'string' },
        description: 'INCOMPLETE_PROJECT_ARCHIVE: sha256 of the blobs the events reference but the archive lacks.',
      },
      phase: {
        type: 'string',
        enum: [...IMPORT_PHASES],
        description: 'IMPORT_INTERRUPTED: the phase the import was in when its api stopped.',
      },
      importedProjectId: {
        type: 'string',
        format: 'uuid',
        nullable: true,
        description:
          'IMPORT_INTERRUPTED: the project it had begun (null before the archive was checked); what was written of it ' +
          'is deleted, unless the database refused then (the message says which).',
      },
    },
    description:
      'Facts about the refusal, as in the error body of the synchronous answer: the fields below for the codes they ' +
      'name; a passed ARCHIVE_* limit names the limit (maxBytes, maxEntries, maxRatio…).',
  })
  details?: unknown;
}

export class ImportProgressDto implements ImportProgress {
  @ApiProperty({
    enum: IMPORT_PHASES,
    description:
      'checking (the archive: manifest, events, blobs listed), storing-blobs, writing-events, finishing (read models, ' +
      'new deployment keys).',
  })
  phase: ImportPhase;

  @ApiProperty({ example: 37 })
  blobsStored: number;

  @ApiProperty({ example: 130, description: 'Blobs to store (0 until the archive is checked).' })
  blobCount: number;

  @ApiProperty({ example: 0 })
  eventsWritten: number;

  @ApiProperty({ example: 412, description: 'Events to write (0 until the archive is checked).' })
  eventCount: number;

  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'The new project, once the archive is checked (it exists once its events are written).',
  })
  importedProjectId: string | null;
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

  @ApiPropertyOptional({
    type: ImportProgressDto,
    description: 'How far it got, as last recorded (at every phase and every 10 s while it runs).',
  })
  progress?: ImportProgressDto;

  @ApiPropertyOptional({ format: 'date-time' })
  finishedAt?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'done: the new project.' })
  projectId?: string;

  @ApiPropertyOptional({
    type: ImportedProjectDto,
    description:
      'done: what the synchronous import answers, with the deployments’ new keys. Given by the first status read that reports ' +
      'done, answered by the api that ran the import, only (keys are shown once and never stored); later reads, and ' +
      'reads after that api restarted, have projectId alone (POST …/deployments/{deploymentId}/rotate-key gives a key then).',
  })
  imported?: ImportedProjectDto;

  @ApiPropertyOptional({
    type: ImportErrorDto,
    description:
      'failed: why (a refused archive leaves no trace of the project). IMPORT_INTERRUPTED: the api running it stopped ' +
      'before it finished (send the archive again; what it had written of the project, `details.importedProjectId` ' +
      'when `details.phase` is writing-events or finishing, is deleted, or left to delete when the database refused).',
  })
  error?: ImportErrorDto;
}
