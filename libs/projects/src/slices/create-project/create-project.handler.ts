import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Clock, commandMetadata, IdGenerator, Settings } from '@diyml/core';
import { decideAndAppend, EventStore } from '@diyml/event-store';
import { ProjectionRunner } from '@diyml/read-store';
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
    private readonly events: EventStore,
    private readonly projections: ProjectionRunner,
    private readonly access: ProjectAccess,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly settings: Settings,
  ) {}

  async execute({ name, projectType, description, context }: CreateProject): Promise<ProjectDto> {
    const projectId = this.ids.newId();
    const metadata = commandMetadata(context, this.clock.now());
    const result = await decideAndAppend(
      this.events,
      projectStream(projectId),
      projectDecider,
      { type: 'CreateProject', projectId, ownerId: context.userId, name, projectType, description, metadata },
      metadata,
    );
    await this.projections.waitFor(result.position, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
    return toProjectDto(await this.access.getOwned(projectId, context.userId));
  }
}
