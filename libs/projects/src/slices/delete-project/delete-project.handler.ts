import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ProjectWriter, type UserContext } from '../project-writer.js';

export class DeleteProject extends Command<void> {
  constructor(
    readonly projectId: string,
    readonly expectedRevision: number | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(DeleteProject)
export class DeleteProjectHandler implements ICommandHandler<DeleteProject> {
  constructor(private readonly writer: ProjectWriter) {}

  async execute({ projectId, expectedRevision, context }: DeleteProject): Promise<void> {
    await this.writer.execute(
      projectId,
      context,
      (metadata) => ({ type: 'DeleteProject', metadata }),
      expectedRevision,
    );
  }
}
