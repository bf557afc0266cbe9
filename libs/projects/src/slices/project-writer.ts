import { Injectable } from '@nestjs/common';
import type { CommandMetadata, RequestContext } from '@diyml/core';
import { CommandPipeline, type DecisionResult } from '@diyml/event-store';
import { type ProjectCommand, projectDecider } from '../domain/project.decider.js';
import { projectStream, type ProjectEvent } from '../domain/project.events.js';
import { ProjectAccess } from '../project-access.js';

export type UserContext = RequestContext & { userId: string };

/**
 * What every command on an existing project does: the tenancy check (404 for anyone but the owner), then the
 * command pipeline on the project's stream (412 when If-Match names another revision, 409 on a concurrent append).
 */
@Injectable()
export class ProjectWriter {
  constructor(
    private readonly pipeline: CommandPipeline,
    private readonly access: ProjectAccess,
  ) {}

  async execute(
    projectId: string,
    context: UserContext,
    command: (metadata: CommandMetadata) => ProjectCommand,
    expectedRevision?: number,
  ): Promise<DecisionResult<ProjectEvent>> {
    await this.access.getOwned(projectId, context.userId);
    return this.pipeline.on(projectStream(projectId), projectDecider).run({
      context,
      command: (_, metadata) => command(metadata),
      expectedRevision,
    });
  }
}
