import { Injectable } from '@nestjs/common';
import { Clock, commandMetadata, type RequestContext, Settings } from '@diyml/core';
import { decideAndAppend, EventStore } from '@diyml/event-store';
import { ProjectionRunner } from '@diyml/read-store';
import { type DeploymentCommand, deploymentDecider } from '../domain/deployment.decider.js';
import { deploymentStream } from '../domain/deployment.events.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Decides a command on a deployment's stream, appends with the revision read, and waits for the read models. */
@Injectable()
export class DeploymentCommandRunner {
  constructor(
    private readonly events: EventStore,
    private readonly projections: ProjectionRunner,
    private readonly clock: Clock,
    private readonly settings: Settings,
  ) {}

  async run(
    deploymentId: string,
    command: DistributiveOmit<DeploymentCommand, 'metadata'>,
    context: RequestContext,
  ): Promise<void> {
    const metadata = commandMetadata(context, this.clock.now());
    const result = await decideAndAppend(
      this.events,
      deploymentStream(deploymentId),
      deploymentDecider,
      { ...command, metadata } as DeploymentCommand,
      metadata,
    );
    await this.projections.waitFor(result.position, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
  }
}
