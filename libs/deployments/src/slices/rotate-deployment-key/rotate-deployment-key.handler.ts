import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RequestContext } from '@diyml/core';
import { CommandPipeline } from '@diyml/event-store';
import { ProjectAccess } from '@diyml/projects';
import { generateDeploymentKey } from '../../domain/api-key.js';
import { deploymentDecider } from '../../domain/deployment.decider.js';
import { deploymentStream } from '../../domain/deployment.events.js';
import { DeploymentQueries } from '../../read-models/deployments/deployment-queries.js';
import type { RotatedKeyDto } from '../deployment.dto.js';

export class RotateDeploymentKey extends Command<RotatedKeyDto> {
  constructor(
    readonly projectId: string,
    readonly deploymentId: string,
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

/**
 * Replaces the deployment's key. Answers only once the read model holds the new hash, so the old key is
 * refused from the moment the client has the new one.
 */
@CommandHandler(RotateDeploymentKey)
export class RotateDeploymentKeyHandler implements ICommandHandler<RotateDeploymentKey> {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly deployments: DeploymentQueries,
    private readonly pipeline: CommandPipeline,
  ) {}

  async execute({ projectId, deploymentId, context }: RotateDeploymentKey): Promise<RotatedKeyDto> {
    await this.projects.getOwned(projectId, context.userId);
    await this.deployments.get(projectId, deploymentId);
    const { key, keyHash, keyPrefix } = generateDeploymentKey();
    const { metadata } = await this.pipeline.on(deploymentStream(deploymentId), deploymentDecider).run({
      context,
      command: (_, metadata) => ({ type: 'RotateDeploymentKey', keyHash, keyPrefix, metadata }),
    });
    return { id: deploymentId, apiKey: key, keyPrefix, keyRotatedAt: metadata.now.toISOString() };
  }
}
