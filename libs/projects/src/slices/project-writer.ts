import { Injectable } from '@nestjs/common';
import { Clock, type CommandMetadata, commandMetadata, type RequestContext, Settings } from '@diyml/core';
import { decideAndAppend, type DecisionResult, EventStore } from '@diyml/event-store';
import { ProjectionRunner } from '@diyml/read-store';
import { type ProjectCommand, projectDecider } from '../domain/project.decider.js';
import { projectStream, type ProjectEvent } from '../domain/project.events.js';
import { ProjectAccess } from '../project-access.js';

export type UserContext = RequestContext & { userId: string };

/**
 * What every command on an existing project does: the tenancy check (404 for anyone but the owner), load,
 * decide, append with the revision read (412 when If-Match names another, 409 on a concurrent append),
 * then wait until the read models have the change.
 */
@Injectable()
export class ProjectWriter {
  constructor(
    private readonly events: EventStore,
    private readonly projections: ProjectionRunner,
    private readonly access: ProjectAccess,
    private readonly clock: Clock,
    private readonly settings: Settings,
  ) {}

  async execute(
    projectId: string,
    context: UserContext,
    command: (metadata: CommandMetadata) => ProjectCommand,
    expectedRevision?: number,
  ): Promise<DecisionResult<ProjectEvent>> {
    await this.access.getOwned(projectId, context.userId);
    const metadata = commandMetadata(context, this.clock.now());
    const result = await decideAndAppend(
      this.events,
      projectStream(projectId),
      projectDecider,
      command(metadata),
      metadata,
      {
        expectedRevision,
      },
    );
    await this.projections.waitFor(result.position, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
    return result;
  }
}
