import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError } from '@diyml/core/pure';
import { ProjectAccess } from '@diyml/projects';
import { DatasetErrors } from '../../domain/dataset-errors.js';
import { tooManyLabels } from '../../domain/image.decider.js';
import type { Split } from '../../domain/image.events.js';
import { resolveLabels } from '../../domain/label-reference.js';
import { ImageIntake, type IntakeItem } from '../../upload/image-intake.js';
import type { ReceivedFile } from '../../upload/multipart.interceptor.js';
import type { UserContext } from '../image-writer.js';

export class UploadImages extends Command<IntakeItem[]> {
  constructor(
    readonly projectId: string,
    readonly files: readonly ReceivedFile[],
    /** Names or ids of the labels every file gets: several on a multilabel project, at most one otherwise. */
    readonly labels: readonly string[],
    readonly split: Split | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(UploadImages)
export class UploadImagesHandler implements ICommandHandler<UploadImages> {
  constructor(
    private readonly access: ProjectAccess,
    private readonly intake: ImageIntake,
  ) {}

  async execute({ projectId, files, labels, split, context }: UploadImages): Promise<IntakeItem[]> {
    const project = await this.access.getOwned(projectId, context.userId);
    if (files.length === 0) {
      throw DomainError.validation(
        DatasetErrors.NO_FILES,
        'No files: send one or more images in the multipart field "images".',
      );
    }
    if (labels.length > 0 && project.type === 'detection') {
      throw DomainError.validation(
        DatasetErrors.WRONG_PROJECT_TYPE,
        'A label for whole images belongs to classification and multilabel projects; label detection images with regions.',
        { projectType: project.type },
      );
    }
    // Checked here too (the decider checks each image), so a wrong request is refused before any file is taken.
    const labelIds = resolveLabels(project.labels, labels).map((resolved) => resolved.id);
    if (project.type === 'classification' && labelIds.length > 1) throw tooManyLabels(labelIds.length);
    return this.intake.withRoom({ projectId, ownerId: project.ownerId }, files.length, () =>
      this.intake.intake(
        project,
        files.map((file) => ({
          filename: file.filename,
          bytes: file.buffer,
          labelId: labelIds[0] ?? null,
          labelIds,
          split: split ?? 'train',
        })),
        context,
      ),
    );
  }
}
