import { Injectable } from '@nestjs/common';
import type { RequestContext } from '@diyml/core';
import { CommandPipeline } from '@diyml/event-store';
import { type DeploymentCommand, deploymentDecider } from '../domain/deployment.decider.js';
import { deploymentStream } from '../domain/deployment.events.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Runs a command on a deployment's stream through the command pipeline, waiting for the read models. */
@Injectable()
export class DeploymentCommandRunner {
  constructor(private readonly pipeline: CommandPipeline) {}

  async run(
    deploymentId: string,
    command: DistributiveOmit<DeploymentCommand, 'metadata'>,
    context: RequestContext,
  ): Promise<void> {
    await this.pipeline.on(deploymentStream(deploymentId), deploymentDecider).run({
      context,
      command: (_, metadata) => ({ ...command, metadata }) as DeploymentCommand,
    });
  }
}
