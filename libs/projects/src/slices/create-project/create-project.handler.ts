import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IdGenerator } from '@diyml/core/pure';
import { CommandPipeline } from '@diyml/event-store';
import { projectDecider } from '../../domain/project.decider.js';
import { projectStream } from '../../domain/project.events.js';
import type { ProjectType } from '../../domain/project-type.js';
import { type ProjectDto, toProjectDto } from '../../http/project.dto.js';
import { ProjectAccess } from '../../project-access.js';
import type { UserContext } from '../project-writer.js';

export class CreateProject extends Command<ProjectDto> {
  constructor(
    readonly name: string,
    readonly projectType: ProjectType,
    readonly description: string | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(CreateProject)
export class CreateProjectHandler implements ICommandHandler<CreateProject> {
  constructor(
    private readonly pipeline: CommandPipeline,
    private readonly access: ProjectAccess,
    private readonly ids: IdGenerator,
  ) {}

  async execute({ name, projectType, description, context }: CreateProject): Promise<ProjectDto> {
    await this.access.assertRoomForProject(context.userId);
    const projectId = this.ids.newId();
    await this.pipeline.on(projectStream(projectId), projectDecider).run({
      context,
      command: (_, metadata) => ({
        type: 'CreateProject',
        projectId,
        ownerId: context.userId,
        name,
        projectType,
        description,
        metadata,
      }),
    });
    return toProjectDto(await this.access.getOwned(projectId, context.userId));
  }
}
