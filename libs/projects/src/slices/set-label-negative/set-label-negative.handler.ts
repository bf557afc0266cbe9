import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ReadStore } from '@diyml/read-store';
import { toProjectLabelDto } from '../../http/project.dto.js';
import { ProjectAccess } from '../../project-access.js';
import { imagesWithOtherLabels } from '../../read-models/image-labels/image-labels.view.js';
import type { LabelWritten } from '../add-label/add-label.handler.js';
import { ProjectWriter, type UserContext } from '../project-writer.js';

/** Marks a label the project's negative label (`negative`), or makes it a regular label again. */
export class SetLabelNegative extends Command<LabelWritten> {
  constructor(
    readonly projectId: string,
    readonly labelId: string,
    readonly negative: boolean,
    readonly expectedRevision: number | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(SetLabelNegative)
export class SetLabelNegativeHandler implements ICommandHandler<SetLabelNegative> {
  constructor(
    private readonly writer: ProjectWriter,
    private readonly access: ProjectAccess,
    private readonly readStore: ReadStore,
  ) {}

  async execute({ projectId, labelId, negative, expectedRevision, context }: SetLabelNegative): Promise<LabelWritten> {
    // Images are another context's streams: the decision reads them from its read model (an image labeled in the
    // same instant may slip through; the image decider refuses any later label beside the negative one).
    const imageIds = negative ? await imagesWithOtherLabels(this.readStore, projectId, labelId) : [];
    const result = await this.writer.execute(
      projectId,
      context,
      (metadata) => ({ type: 'SetLabelNegative', labelId, negative, imagesWithOtherLabels: imageIds, metadata }),
      expectedRevision,
    );
    const project = await this.access.getOwned(projectId, context.userId);
    const label = project.labels.find((candidate) => candidate.id === labelId)!;
    return { label: toProjectLabelDto(label), revision: result.revision };
  }
}
