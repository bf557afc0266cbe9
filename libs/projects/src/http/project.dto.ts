import { ApiProperty } from '@nestjs/swagger';
import { PROJECT_TYPES, type ProjectType } from '../domain/project-type.js';
import type { ProjectLabelView, ProjectView } from '../read-models/projects/project.view.js';
import { TrainingConfigDto } from './training-config.dto.js';

export class LabelDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'cat', minLength: 1, maxLength: 100 })
  name: string;
}

export class ProjectLabelDto extends LabelDto {
  @ApiProperty({
    example: 0,
    minimum: 0,
    description:
      "Which colour to draw the label in, kept for the label's life: the lowest index no other label of the project " +
      'held when it was added (a removed label frees its index for labels added later).',
  })
  colorIndex: number;

  @ApiProperty({
    example: false,
    description:
      'The negative label ("none of the others", Custom Vision\'s Negative tag): an image of it shows none of the ' +
      "project's other labels. At most one per project, never in detection projects; an image carries it alone. " +
      'A classification model learns it as a class (it predicts it for a picture of none of the other labels); a ' +
      'multilabel model learns its images with every label absent and does not predict it.',
  })
  negative: boolean;
}

export class ProjectDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'Cats and dogs' })
  name: string;

  @ApiProperty({ enum: PROJECT_TYPES })
  type: ProjectType;

  @ApiProperty({ example: 'Tell my cat from the neighbour’s dog.' })
  description: string;

  @ApiProperty({ type: [ProjectLabelDto], description: 'In the order they were added.' })
  labels: ProjectLabelDto[];

  @ApiProperty({ type: TrainingConfigDto })
  trainingConfig: TrainingConfigDto;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  @ApiProperty({ example: 3, description: 'Changes with every write; also sent as the ETag header.' })
  revision: number;
}

export class ProjectListDto {
  @ApiProperty({ type: [ProjectDto], description: 'Your projects, oldest first.' })
  items: ProjectDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page.',
  })
  nextCursor: string | null;
}

export function toProjectDto(view: ProjectView): ProjectDto {
  const { id, name, type, description, labels, trainingConfig, createdAt, updatedAt, revision } = view;
  return {
    id,
    name,
    type,
    description,
    labels: labels.map(toProjectLabelDto),
    trainingConfig,
    createdAt,
    updatedAt,
    revision,
  };
}

export function toProjectLabelDto({ id, name, colorIndex, negative }: ProjectLabelView): ProjectLabelDto {
  return { id, name, colorIndex, negative: negative ?? false };
}
