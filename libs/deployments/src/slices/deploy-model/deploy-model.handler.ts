import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { IdGenerator, type RequestContext } from '@diyml/core';
import { CommandPipeline } from '@diyml/event-store';
import { ProjectAccess } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { ITERATIONS, type IterationView } from '@diyml/training';
import { generateDeploymentKey } from '../../domain/api-key.js';
import { deploymentDecider, type IterationFacts } from '../../domain/deployment.decider.js';
import { deploymentStream } from '../../domain/deployment.events.js';
import { DeploymentQueries } from '../../read-models/deployments/deployment-queries.js';
import { type DeployedModelDto, toDeploymentDto } from '../deployment.dto.js';

export class DeployModelDto {
  @ApiProperty({ format: 'uuid', description: 'A completed iteration of the project.' })
  @IsUUID()
  iterationId: string;

  @ApiPropertyOptional({
    example: 'production',
    minLength: 1,
    maxLength: 100,
    description:
      'Default: "Iteration <number>". A chosen name must be free: no other active deployment of the project has it.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name?: string;
}

export class DeployModel extends Command<DeployedModelDto> {
  constructor(
    readonly projectId: string,
    readonly iterationId: string,
    readonly name: string | undefined,
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

/** Puts a completed iteration behind a new endpoint with a new key (shown once); a chosen name must be free in the project. */
@CommandHandler(DeployModel)
export class DeployModelHandler implements ICommandHandler<DeployModel> {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly readStore: ReadStore,
    private readonly deployments: DeploymentQueries,
    private readonly pipeline: CommandPipeline,
    private readonly ids: IdGenerator,
  ) {}

  async execute({ projectId, iterationId, name, context }: DeployModel): Promise<DeployedModelDto> {
    await this.projects.getOwned(projectId, context.userId);
    const view = await this.readStore.collection<IterationView>(ITERATIONS).get(iterationId);
    const iteration: IterationFacts | null =
      view && view.projectId === projectId
        ? {
            id: view.id,
            number: view.number,
            status: view.status,
            modelSha256: view.model?.sha256 ?? null,
            labels: view.labels.map((label) => label.name),
          }
        : null;
    // Read from the read model, as iteration names are: two deploys racing with one name may both pass.
    const activeNames = await this.deployments.activeNames(projectId);
    const deploymentId = this.ids.newId();
    const { key, keyHash, keyPrefix } = generateDeploymentKey();
    await this.pipeline.on(deploymentStream(deploymentId), deploymentDecider).run({
      context,
      command: (_, metadata) => ({
        type: 'DeployModel',
        projectId,
        deploymentId,
        iterationId,
        iteration,
        name,
        activeNames,
        keyHash,
        keyPrefix,
        metadata,
      }),
    });
    return { ...toDeploymentDto(await this.deployments.get(projectId, deploymentId)), apiKey: key };
  }
}
