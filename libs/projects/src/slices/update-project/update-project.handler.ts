import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type ProjectDto, toProjectDto } from '../../http/project.dto.js';
import { ProjectAccess } from '../../project-access.js';
import { ProjectWriter, type UserContext } from '../project-writer.js';

export class UpdateProject extends Command<ProjectDto> {
  constructor(
    readonly projectId: string,
    readonly changes: { name?: string; description?: string },
    readonly expectedRevision: number | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(UpdateProject)
export class UpdateProjectHandler implements ICommandHandler<UpdateProject> {
  constructor(
    private readonly writer: ProjectWriter,
    private readonly access: ProjectAccess,
  ) {}

  async execute({ projectId, changes, expectedRevision, context }: UpdateProject): Promise<ProjectDto> {
    await this.writer.execute(
      projectId,
      context,
      (metadata) => ({ type: 'UpdateProject', name: changes.name, description: changes.description, metadata }),
      expectedRevision,
    );
    return toProjectDto(await this.access.getOwned(projectId, context.userId));
  }
}
