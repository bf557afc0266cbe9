import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IdGenerator } from '@diyml/core/pure';
import { type ProjectLabelDto, toProjectLabelDto } from '../../http/project.dto.js';
import { ProjectAccess } from '../../project-access.js';
import { ProjectWriter, type UserContext } from '../project-writer.js';

export interface LabelWritten {
  label: ProjectLabelDto;
  /** The project's revision after the write. */
  revision: number;
}

export class AddLabel extends Command<LabelWritten> {
  constructor(
    readonly projectId: string,
    readonly name: string,
    readonly expectedRevision: number | undefined,
    readonly context: UserContext,
    /** Added as the project's negative label. */
    readonly negative = false,
  ) {
    super();
  }
}

@CommandHandler(AddLabel)
export class AddLabelHandler implements ICommandHandler<AddLabel> {
  constructor(
    private readonly writer: ProjectWriter,
    private readonly access: ProjectAccess,
    private readonly ids: IdGenerator,
  ) {}

  async execute({ projectId, name, expectedRevision, context, negative }: AddLabel): Promise<LabelWritten> {
    const labelId = this.ids.newId();
    const result = await this.writer.execute(
      projectId,
      context,
      (metadata) => ({ type: 'AddLabel', labelId, name, negative, metadata }),
      expectedRevision,
    );
    // The pipeline waited for the read model, which gives the label its colour.
    const project = await this.access.getOwned(projectId, context.userId);
    const label = project.labels.find((candidate) => candidate.id === labelId)!;
    return { label: toProjectLabelDto(label), revision: result.revision };
  }
}
