import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IdGenerator } from '@diyml/core/pure';
import type { LabelAdded } from '../../domain/project.events.js';
import type { LabelDto } from '../../http/project.dto.js';
import { ProjectWriter, type UserContext } from '../project-writer.js';

export interface LabelWritten {
  label: LabelDto;
  /** The project's revision after the write. */
  revision: number;
}

export class AddLabel extends Command<LabelWritten> {
  constructor(
    readonly projectId: string,
    readonly name: string,
    readonly expectedRevision: number | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(AddLabel)
export class AddLabelHandler implements ICommandHandler<AddLabel> {
  constructor(
    private readonly writer: ProjectWriter,
    private readonly ids: IdGenerator,
  ) {}

  async execute({ projectId, name, expectedRevision, context }: AddLabel): Promise<LabelWritten> {
    const labelId = this.ids.newId();
    const result = await this.writer.execute(
      projectId,
      context,
      (metadata) => ({ type: 'AddLabel', labelId, name, metadata }),
      expectedRevision,
    );
    const added = result.events.find((event): event is LabelAdded => event.type === 'LabelAdded');
    return { label: { id: labelId, name: added?.data.name ?? name }, revision: result.revision };
  }
}
