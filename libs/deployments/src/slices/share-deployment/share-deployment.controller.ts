import { Body, Controller, Delete, HttpCode, Param, Put } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import {
  ApiErrors,
  type AuthenticatedUser,
  Ctx,
  CurrentUser,
  DomainError,
  type RequestContext,
  UuidParam,
} from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { ITERATIONS, type IterationView } from '@diyml/training';
import { DeploymentErrors } from '../../domain/deployment-errors.js';
import type { SharedModelFacts } from '../../domain/deployment.events.js';
import { DeploymentQueries } from '../../read-models/deployments/deployment-queries.js';
import { SHARED_MODELS, type SharedModelView } from '../../read-models/shared-models/shared-models.projection.js';
import { DeploymentCommandRunner } from '../deployment-command.js';
import { SharedModelDto, toSharedModelDto } from '../shared-models/shared-model.dto.js';

export class ShareDeploymentDto {
  @ApiPropertyOptional({
    example: 'Tells apples from pears.',
    maxLength: 2000,
    description: 'What the model is for; shown to every user. Default: empty.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({
    example: 'Fruit classifier',
    minLength: 1,
    maxLength: 100,
    description: "The name users see. Default: the deployment's name.",
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name?: string;
}

function metricsOf(iteration: IterationView | undefined): SharedModelFacts['metrics'] {
  const metrics = iteration?.metrics as Record<string, unknown> | null | undefined;
  if (!metrics) return null;
  const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
  return {
    accuracy: number(metrics.accuracy),
    precision: number(metrics.precision),
    recall: number(metrics.recall),
    map50: number(metrics.map50),
  };
}

/** The owner shares a deployment with every user of the installation, or stops sharing it. */
@ApiTags('shared models')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/deployments/:deploymentId/share')
export class ShareDeploymentController {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly deployments: DeploymentQueries,
    private readonly readStore: ReadStore,
    private readonly runner: DeploymentCommandRunner,
  ) {}

  @Put()
  @ApiOperation({
    operationId: 'shareDeployment',
    summary:
      'Share the deployment with every signed-in user (name, description, labels, metrics: nothing else of the project)',
    description:
      'Others find it under GET /v1/shared-models and predict with their own personal token, rate-limited per caller. Sharing again updates the name and description.',
  })
  @ApiOkResponse({ type: SharedModelDto })
  @ApiErrors(400, 401, 404)
  async share(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('deploymentId', UuidParam('deploymentId')) deploymentId: string,
    @Body() body: ShareDeploymentDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<SharedModelDto> {
    const project = await this.projects.getOwned(projectId, user.id);
    const deployment = await this.deployments.get(projectId, deploymentId);
    const iteration = await this.readStore.collection<IterationView>(ITERATIONS).get(deployment.iterationId);
    await this.runner.run(
      deploymentId,
      {
        type: 'ShareDeployment',
        ownerId: project.ownerId,
        name: body.name ?? deployment.name,
        description: body.description ?? '',
        task: project.type,
        labels: deployment.labels,
        metrics: metricsOf(iteration),
      },
      { ...context, userId: user.id },
    );
    const shared = await this.readStore.collection<SharedModelView>(SHARED_MODELS).get(deploymentId);
    if (!shared)
      throw DomainError.notFound(DeploymentErrors.SHARED_MODEL_NOT_FOUND, `Deployment ${deploymentId} is not shared.`);
    return toSharedModelDto(shared);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    operationId: 'unshareDeployment',
    summary: 'Stop sharing: other users no longer see it, and their predictions answer 404',
  })
  @ApiNoContentResponse()
  @ApiErrors(400, 401, 404)
  async unshare(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('deploymentId', UuidParam('deploymentId')) deploymentId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.projects.getOwned(projectId, user.id);
    await this.deployments.get(projectId, deploymentId);
    await this.runner.run(deploymentId, { type: 'UnshareDeployment' }, { ...context, userId: user.id });
  }
}
