import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ProjectWriter, type UserContext } from '../project-writer.js';

export class RemoveLabel extends Command<{ revision: number }> {
  constructor(
    readonly projectId: string,
    readonly labelId: string,
    readonly expectedRevision: number | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(RemoveLabel)
export class RemoveLabelHandler implements ICommandHandler<RemoveLabel> {
  constructor(private readonly writer: ProjectWriter) {}

  async execute({ projectId, labelId, expectedRevision, context }: RemoveLabel): Promise<{ revision: number }> {
    const result = await this.writer.execute(
      projectId,
      context,
      (metadata) => ({ type: 'RemoveLabel', labelId, metadata }),
      expectedRevision,
    );
    return { revision: result.revision };
  }
}
