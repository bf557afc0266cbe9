import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { DomainError } from '@diyml/core/pure';
import { MAX_REGIONS_PER_IMAGE, type ImageCommand } from '../../domain/image.decider.js';
import { resolveLabels } from '../../domain/label-reference.js';
import { labelReferencesOf } from '../label-image/label-image.handler.js';
import { ItemErrorDto } from '../../http/image.dto.js';
import { RegionInputDto, toRegions } from '../../http/region-input.dto.js';
import { ImageWriter, type UserContext } from '../image-writer.js';
import { LabelReferencesProperty } from '../../http/label-references.dto.js';

export const MAX_BATCH_ITEMS = 1000;

export class LabelItemDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  imageId: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Classification: label name or id; null clears.' })
  @IsOptional()
  @ValidateIf((item: LabelItemDto) => item.label !== null)
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label?: string | null;

  @LabelReferencesProperty(
    'Multilabel: every label of the image, names or ids ([] untags it); classification takes one.',
  )
  labels?: string[];

  @ApiPropertyOptional({ type: [RegionInputDto], description: 'Detection: replaces the boxes.' })
  @ValidateIf((_, value) => value !== undefined)
  @IsArray()
  @ArrayMaxSize(MAX_REGIONS_PER_IMAGE)
  @ValidateNested({ each: true })
  @Type(() => RegionInputDto)
  regions?: RegionInputDto[];
}

export class LabelImagesDto {
  /** Each item is validated by the controller a few at a time (validateItemsInTurns), not by the global pipe. */
  @ApiProperty({ type: [LabelItemDto], minItems: 1, maxItems: MAX_BATCH_ITEMS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_ITEMS)
  items: unknown[];
}

export class LabelItemResultDto {
  @ApiProperty({ format: 'uuid' })
  imageId: string;

  @ApiProperty({ enum: ['updated', 'unchanged', 'failed'] })
  status: 'updated' | 'unchanged' | 'failed';

  @ApiPropertyOptional({ type: ItemErrorDto })
  error?: ItemErrorDto;
}

export class LabelImagesResultDto {
  @ApiProperty({ type: [LabelItemResultDto], description: 'One per item, in the order sent.' })
  items: LabelItemResultDto[];

  @ApiProperty()
  updated: number;

  @ApiProperty()
  unchanged: number;

  @ApiProperty()
  failed: number;
}

/** Labels many images in one request; each item succeeds or fails on its own. */
export class LabelImages extends Command<LabelImagesResultDto> {
  constructor(
    readonly projectId: string,
    readonly items: LabelItemDto[],
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(LabelImages)
export class LabelImagesHandler implements ICommandHandler<LabelImages> {
  constructor(private readonly writer: ImageWriter) {}

  async execute({ projectId, items, context }: LabelImages): Promise<LabelImagesResultDto> {
    const project = await this.writer.project(projectId, context);
    const results: LabelItemResultDto[] = [];
    let lastPosition = -1;
    for (const item of items) {
      try {
        if (item.label === undefined && item.labels === undefined && item.regions === undefined) {
          throw DomainError.validation(
            'NOTHING_TO_LABEL',
            'Give `label` (classification), `labels` (multilabel) or `regions` (detection).',
          );
        }
        const written = await this.writer.execute(
          project,
          item.imageId,
          context,
          (projectContext) => {
            const commands: ImageCommand[] = [];
            if (item.label !== undefined || item.labels !== undefined) {
              const labelIds = resolveLabels(project.labels, labelReferencesOf(item)).map((label) => label.id);
              commands.push({ type: 'SetImageLabels', project: projectContext, labelIds });
            }
            if (item.regions !== undefined) {
              commands.push({
                type: 'SetImageRegions',
                project: projectContext,
                regions: toRegions(project.labels, item.regions),
              });
            }
            return commands;
          },
          { wait: false },
        );
        lastPosition = Math.max(lastPosition, written.position);
        results.push({ imageId: item.imageId, status: written.events.length ? 'updated' : 'unchanged' });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        results.push({ imageId: item.imageId, status: 'failed', error: { code: error.code, message: error.message } });
      }
    }
    await this.writer.waitFor(lastPosition);
    const count = (status: LabelItemResultDto['status']) => results.filter((result) => result.status === status).length;
    return { items: results, updated: count('updated'), unchanged: count('unchanged'), failed: count('failed') };
  }
}
