import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Type } from 'class-transformer';
import { DomainError } from '@diyml/core/pure';
import {
  ArrayMaxSize,
  IsArray,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { MAX_REGIONS_PER_IMAGE } from '../../domain/image.decider.js';
import { resolveLabels } from '../../domain/label-reference.js';
import { RegionInputDto, toRegions } from '../../http/region-input.dto.js';
import { DatasetQueries } from '../../read-models/images/dataset-queries.js';
import { ImageWriter, type UserContext } from '../image-writer.js';
import type { ImageDto } from '../../http/image.dto.js';
import { toImageDto } from '../../http/image.dto.js';
import { LabelReferencesProperty } from '../../http/label-references.dto.js';

export class LabelImageDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'cat',
    description: 'Label name or id; null clears the label (on a multilabel project: every label).',
  })
  @IsOptional()
  @ValidateIf((body: LabelImageDto) => body.label !== null)
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label?: string | null;

  @LabelReferencesProperty(
    'Every label of the image, names or ids, replacing those it has ([] untags it): any number on a multilabel ' +
      'project, at most one on a classification project (400 TOO_MANY_LABELS).',
    ['dog', 'outdoor'],
  )
  labels?: string[];
}

/**
 * The whole-image labels a request names: `labels`, else `label` (null: none). 400 NOTHING_TO_LABEL without either,
 * 400 LABEL_AND_LABELS with both (which one was meant is unknown).
 */
export function labelReferencesOf(body: { label?: string | null; labels?: string[] }): string[] {
  if (body.labels !== undefined && body.label !== undefined) {
    throw DomainError.validation(
      'LABEL_AND_LABELS',
      'Give either `label` (one label name or id, null to clear) or `labels` (every label of the image), not both.',
    );
  }
  if (body.labels !== undefined) return body.labels;
  if (body.label === undefined) {
    throw DomainError.validation(
      'NOTHING_TO_LABEL',
      'Give `label` (one label name or id, null to clear) or `labels` (every label of the image).',
    );
  }
  return body.label === null ? [] : [body.label];
}

export class SetImageRegionsDto {
  @ApiProperty({
    type: [RegionInputDto],
    maxItems: MAX_REGIONS_PER_IMAGE,
    description: 'Replaces the boxes of the image; [] clears them.',
  })
  @IsArray()
  @ArrayMaxSize(MAX_REGIONS_PER_IMAGE)
  @ValidateNested({ each: true })
  @Type(() => RegionInputDto)
  regions: RegionInputDto[];
}

/** Sets the whole-image label (classification) or the boxes (detection) of one image. */
export class LabelImage extends Command<{ image: ImageDto; revision: number }> {
  constructor(
    readonly projectId: string,
    readonly imageId: string,
    readonly change: { labels: string[] } | { regions: RegionInputDto[] },
    readonly expectedRevision: number | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(LabelImage)
export class LabelImageHandler implements ICommandHandler<LabelImage> {
  constructor(
    private readonly writer: ImageWriter,
    private readonly queries: DatasetQueries,
  ) {}

  async execute({ projectId, imageId, change, expectedRevision, context }: LabelImage) {
    const project = await this.writer.project(projectId, context);
    await this.writer.execute(
      project,
      imageId,
      context,
      (projectContext) =>
        'labels' in change
          ? [
              {
                type: 'SetImageLabels',
                project: projectContext,
                labelIds: resolveLabels(project.labels, change.labels).map((label) => label.id),
              },
            ]
          : [{ type: 'SetImageRegions', project: projectContext, regions: toRegions(project.labels, change.regions) }],
      { expectedRevision },
    );
    const image = await this.queries.get(projectId, imageId);
    return { image: toImageDto(image, project.labels), revision: image.revision };
  }
}
