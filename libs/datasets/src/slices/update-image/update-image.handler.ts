import { ApiPropertyOptional } from '@nestjs/swagger';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IsBoolean, IsIn, ValidateIf } from 'class-validator';
import type { ImageCommand } from '../../domain/image.decider.js';
import { SPLITS, type Split } from '../../domain/image.events.js';
import { type ImageDto, toImageDto } from '../../http/image.dto.js';
import { DatasetQueries } from '../../read-models/images/dataset-queries.js';
import { ImageWriter, type UserContext } from '../image-writer.js';

/** Each field may be left out; null is neither a yes/no nor a split (400). */
export class UpdateImageDto {
  @ApiPropertyOptional({ description: 'false excludes the image from training; true includes it again.' })
  @ValidateIf((_, value) => value !== undefined)
  @IsBoolean()
  included?: boolean;

  @ApiPropertyOptional({ enum: SPLITS })
  @ValidateIf((_, value) => value !== undefined)
  @IsIn(SPLITS)
  split?: Split;
}

/** Training points of one image: included or not, and its split. Both changes are appended together. */
export class UpdateImage extends Command<{ image: ImageDto; revision: number }> {
  constructor(
    readonly projectId: string,
    readonly imageId: string,
    readonly change: UpdateImageDto,
    readonly expectedRevision: number | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(UpdateImage)
export class UpdateImageHandler implements ICommandHandler<UpdateImage> {
  constructor(
    private readonly writer: ImageWriter,
    private readonly queries: DatasetQueries,
  ) {}

  async execute({ projectId, imageId, change, expectedRevision, context }: UpdateImage) {
    const project = await this.writer.project(projectId, context);
    await this.writer.execute(
      project,
      imageId,
      context,
      (projectContext) => {
        const commands: ImageCommand[] = [];
        if (change.included !== undefined) {
          commands.push({ type: change.included ? 'IncludeImage' : 'ExcludeImage', project: projectContext });
        }
        if (change.split !== undefined)
          commands.push({ type: 'AssignSplit', project: projectContext, split: change.split });
        return commands;
      },
      { expectedRevision },
    );
    const image = await this.queries.get(projectId, imageId);
    return { image: toImageDto(image, project.labels), revision: image.revision };
  }
}
