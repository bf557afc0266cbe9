import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { ImageMetadata } from '../../domain/image-metadata.js';
import { type ImageDto, toImageDto } from '../../http/image.dto.js';
import { DatasetQueries } from '../../read-models/images/dataset-queries.js';
import { ImageWriter, type UserContext } from '../image-writer.js';

/** Sets an image's metadata: `replace` makes it exactly `metadata`; `merge` adds or overwrites those keys only. */
export class UpdateImageMetadata extends Command<{ image: ImageDto; revision: number }> {
  constructor(
    readonly projectId: string,
    readonly imageId: string,
    readonly metadata: ImageMetadata,
    readonly mode: 'replace' | 'merge',
    readonly expectedRevision: number | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(UpdateImageMetadata)
export class UpdateImageMetadataHandler implements ICommandHandler<UpdateImageMetadata> {
  constructor(
    private readonly writer: ImageWriter,
    private readonly queries: DatasetQueries,
  ) {}

  async execute({ projectId, imageId, metadata, mode, expectedRevision, context }: UpdateImageMetadata) {
    const project = await this.writer.project(projectId, context);
    await this.writer.execute(
      project,
      imageId,
      context,
      (projectContext, current) => [
        {
          type: 'SetImageMetadata',
          project: projectContext,
          metadata: mode === 'merge' ? { ...current.metadata, ...metadata } : metadata,
        },
      ],
      { expectedRevision },
    );
    const image = await this.queries.get(projectId, imageId);
    return { image: toImageDto(image, project.labels), revision: image.revision };
  }
}
