import { ApiProperty } from '@nestjs/swagger';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsString, MaxLength, MinLength, ValidateIf, ValidateNested } from 'class-validator';
import { MAX_REGIONS_PER_IMAGE } from '../../domain/image.decider.js';
import { resolveOptionalLabel } from '../../domain/label-reference.js';
import { RegionInputDto, toRegions } from '../../http/region-input.dto.js';
import { DatasetQueries } from '../../read-models/images/dataset-queries.js';
import { ImageWriter, type UserContext } from '../image-writer.js';
import type { ImageDto } from '../../http/image.dto.js';
import { toImageDto } from '../../http/image.dto.js';

export class LabelImageDto {
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'cat',
    description: 'Label name or id; null clears the label.',
  })
  @ValidateIf((body: LabelImageDto) => body.label !== null)
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label: string | null;
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
    readonly change: { label: string | null } | { regions: RegionInputDto[] },
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
        'label' in change
          ? [
              {
                type: 'LabelImage',
                project: projectContext,
                labelId: resolveOptionalLabel(project.labels, change.label)?.id ?? null,
              },
            ]
          : [{ type: 'SetImageRegions', project: projectContext, regions: toRegions(project.labels, change.regions) }],
      { expectedRevision },
    );
    const image = await this.queries.get(projectId, imageId);
    return { image: toImageDto(image, project.labels), revision: image.revision };
  }
}
