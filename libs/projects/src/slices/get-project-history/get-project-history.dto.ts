import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsInt, IsISO8601, IsOptional, Matches, Max, Min } from 'class-validator';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '@diyml/core';
import { MAX_NAMED_PER_ENTRY } from '../../read-models/project-history/history-names.js';

const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9]{0,99}$/;
const USER_FILTER = /^(system|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;

export class ProjectHistoryQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: -1,
    description: 'Log position to continue after: the nextCursor of the previous page. Default: from the start.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(-1)
  after?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: DEFAULT_PAGE_SIZE,
    description: 'Events per page.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({
    type: String,
    example: 'LabelAdded,LabelRemoved',
    description: 'Only events of these types (comma-separated).',
  })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.split(',').map((type) => type.trim()) : value))
  @IsArray({ message: 'type must be a comma-separated list of event types' })
  @ArrayMaxSize(50)
  @Matches(EVENT_TYPE, { each: true, message: 'type must be a comma-separated list of event types such as LabelAdded' })
  type?: string[];

  @ApiPropertyOptional({ format: 'date-time', description: 'Only events recorded at or after this time.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Only events recorded at or before this time.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO-8601 date-time' })
  to?: string;

  @ApiPropertyOptional({
    type: String,
    example: 'system',
    description:
      'Only events caused by this user (their id, as in metadata.userId), or `system` for those with no user.',
  })
  @IsOptional()
  @Matches(USER_FILTER, { message: 'user must be a user id (UUID) or system' })
  user?: string;
}

export class HistoryMetadataDto {
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'Who caused the event (null: the system).',
  })
  userId: string | null;

  @ApiProperty({ description: 'The request (X-Correlation-Id) or job that caused it.' })
  correlationId: string;

  @ApiProperty({ format: 'date-time' })
  at: string;
}

const nameMap = (description: string, type: 'string' | 'integer', example: Record<string, unknown>) =>
  ApiProperty({ type: 'object', additionalProperties: { type }, example, description });

export class HistoryNamesDto {
  @nameMap("Label id → the name the label had at this event: every label the data names, a box's too.", 'string', {
    'a58ea7c7-c893-41c8-b71e-1510a9ecccc8': 'cat',
  })
  labels: Record<string, string>;

  @nameMap(
    "Image id → the file name it was uploaded with (for the data's `imageId` and `imageIds`, nested ones too: the " +
      `images of a suggestion run; at most ${MAX_NAMED_PER_ENTRY} per event, fewer on a page listing many, the first the data lists).`,
    'string',
    {
      'c0a9c2de-43b4-4b9e-9a37-0d3f0e6f1b52': 'image-0.png',
    },
  )
  images: Record<string, string>;

  @nameMap(
    "Iteration id → its number (for the data's `iterationId`, `reproducedFrom` and `baseIterationId`, nested ones " +
      "too: an accepted suggestion's `source.iterationId`).",
    'integer',
    {
      '0d7f3a8e-5b1e-4f5c-9c39-31f2b0c0a7a4': 3,
    },
  )
  iterations: Record<string, number>;

  @nameMap("Deployment id → its name (for the data's `deploymentId`, nested ones too).", 'string', {
    '6b1e0c55-2f0a-4d8e-8d7e-4c3e9b2a1f00': 'production',
  })
  deployments: Record<string, string>;
}

export class HistoryEntryDto {
  @ApiProperty({ example: 1042, description: 'Position in the log: increases with every event of the whole system.' })
  position: number;

  @ApiProperty({
    example: 'project-0b6f…',
    description: 'The stream the event belongs to (project-, image-, iteration-…).',
  })
  stream: string;

  @ApiProperty({
    example: 'LabelAdded',
    description:
      'What happened, as a stable event type (LabelAdded, ImageUploaded, IterationQueued…); with `v` it fixes the ' +
      'shape of `data`.',
  })
  type: string;

  @ApiProperty({ example: 1, description: 'Schema version of the event data (a changed shape gets a new version).' })
  v: number;

  @ApiProperty({
    type: 'object',
    properties: { projectId: { type: 'string', format: 'uuid' } },
    required: ['projectId'],
    selfRequired: true,
    additionalProperties: true,
    example: {
      projectId: '7fb98501-eda0-46e4-800e-ee755526495d',
      labelId: 'a58ea7c7-c893-41c8-b71e-1510a9ecccc8',
      name: 'cat',
      addedAt: '2026-12-01T21:11:24.878Z',
    },
    description:
      "The event's data as recorded (secrets redacted), in the shape its `type` has at version `v`: it always names " +
      'the projectId; the other fields depend on the type (a sample payload and the shape of each type and version ' +
      "are in the repository's test/fixtures/events/current/<type>.v<v>.json).",
  })
  data: unknown;

  @ApiProperty({ type: HistoryMetadataDto })
  metadata: HistoryMetadataDto;

  @ApiProperty({
    type: HistoryNamesDto,
    description:
      'What `data` refers to by id, named as of this event (a label renamed later keeps the name it had), so a page ' +
      'filtered by type can be read without the events that named them. An id whose naming event is gone is left out.',
  })
  names: HistoryNamesDto;
}

export class HistoryPageDto {
  @ApiProperty({ type: [HistoryEntryDto], description: 'In log order.' })
  items: HistoryEntryDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Pass as `after` for the next page; null when there is nothing more. A page filtered by time or user may be short.',
  })
  nextCursor: string | null;
}
