import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ImageIntake } from '../../upload/image-intake.js';
import { ImageWriter, type UserContext } from '../image-writer.js';

/**
 * Removes an image from its project and releases its content, so the same bytes can be uploaded again.
 * The blob stays: iterations trained on the image still reference it by hash.
 */
export class RemoveImage extends Command<void> {
  constructor(
    readonly projectId: string,
    readonly imageId: string,
    readonly expectedRevision: number | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(RemoveImage)
export class RemoveImageHandler implements ICommandHandler<RemoveImage> {
  constructor(
    private readonly writer: ImageWriter,
    private readonly intake: ImageIntake,
  ) {}

  async execute({ projectId, imageId, expectedRevision, context }: RemoveImage): Promise<void> {
    const project = await this.writer.project(projectId, context);
    const written = await this.writer.execute(
      project,
      imageId,
      context,
      (projectContext) => [{ type: 'RemoveImage', project: projectContext }],
      { expectedRevision },
    );
    if (written.before.sha256) await this.intake.release(projectId, written.before.sha256, imageId, written.metadata);
  }
}
