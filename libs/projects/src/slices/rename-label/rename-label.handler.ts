import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { toProjectLabelDto } from '../../http/project.dto.js';
import { ProjectAccess } from '../../project-access.js';
import type { LabelWritten } from '../add-label/add-label.handler.js';
import { ProjectWriter, type UserContext } from '../project-writer.js';

export class RenameLabel extends Command<LabelWritten> {
  constructor(
    readonly projectId: string,
    readonly labelId: string,
    readonly name: string,
    readonly expectedRevision: number | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(RenameLabel)
export class RenameLabelHandler implements ICommandHandler<RenameLabel> {
  constructor(
    private readonly writer: ProjectWriter,
    private readonly access: ProjectAccess,
  ) {}

  async execute({ projectId, labelId, name, expectedRevision, context }: RenameLabel): Promise<LabelWritten> {
    const result = await this.writer.execute(
      projectId,
      context,
      (metadata) => ({ type: 'RenameLabel', labelId, name, metadata }),
      expectedRevision,
    );
    const project = await this.access.getOwned(projectId, context.userId);
    const label = project.labels.find((candidate) => candidate.id === labelId)!;
    return { label: toProjectLabelDto(label), revision: result.revision };
  }
}
