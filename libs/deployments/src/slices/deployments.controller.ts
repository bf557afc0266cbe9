import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  ApiErrors,
  type AuthenticatedUser,
  Ctx,
  CurrentUser,
  PageQueryDto,
  type RequestContext,
  UuidParam,
} from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import { DeploymentQueries } from '../read-models/deployments/deployment-queries.js';
import { DeployModel, DeployModelDto } from './deploy-model/deploy-model.handler.js';
import {
  DeployedModelDto,
  DeploymentDto,
  DeploymentPageDto,
  RotatedKeyDto,
  toDeploymentDto,
} from './deployment.dto.js';
import { RotateDeploymentKey } from './rotate-deployment-key/rotate-deployment-key.handler.js';
import { UndeployModel } from './undeploy-model/undeploy-model.handler.js';

@ApiTags('deployments')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/deployments')
export class DeploymentsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly projects: ProjectAccess,
    private readonly deployments: DeploymentQueries,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    operationId: 'deployModel',
    summary: 'Deploy a completed iteration behind its own endpoint and API key',
    description:
      'The answer holds `apiKey` once; only its hash is kept. 404 ITERATION_NOT_FOUND for an iteration not in the ' +
      'project, 409 ITERATION_NOT_COMPLETED for one that is queued, running, failed or cancelled, 409 ' +
      'DEPLOYMENT_NAME_TAKEN when an active deployment of the project already has the chosen name (the default ' +
      '"Iteration <number>" is not checked).',
  })
  @ApiCreatedResponse({ type: DeployedModelDto })
  @ApiErrors(400, 401, 404, 409)
  deploy(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: DeployModelDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<DeployedModelDto> {
    return this.commands.execute(
      new DeployModel(projectId, body.iterationId, body.name, { ...context, userId: user.id }),
    );
  }

  @Get()
  @ApiOperation({ operationId: 'listDeployments', summary: "The project's deployments, oldest first (without keys)" })
  @ApiOkResponse({ type: DeploymentPageDto })
  @ApiErrors(400, 401, 404)
  async list(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() page: PageQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<DeploymentPageDto> {
    await this.projects.getOwned(projectId, user.id);
    const found = await this.deployments.list(projectId, { limit: page.limit ?? 50, cursor: page.cursor });
    return { items: found.items.map(toDeploymentDto), nextCursor: found.nextCursor };
  }

  @Get(':deploymentId')
  @ApiOperation({ operationId: 'getDeployment', summary: 'A deployment (without its key)' })
  @ApiOkResponse({ type: DeploymentDto })
  @ApiErrors(400, 401, 404)
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('deploymentId', UuidParam('deploymentId')) deploymentId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<DeploymentDto> {
    await this.projects.getOwned(projectId, user.id);
    return toDeploymentDto(await this.deployments.get(projectId, deploymentId));
  }

  @Post(':deploymentId/rotate-key')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'rotateDeploymentKey',
    summary: 'Replace the API key: the new one is shown once, the old one stops working at once',
  })
  @ApiOkResponse({ type: RotatedKeyDto })
  @ApiErrors(400, 401, 404, 409)
  rotateKey(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('deploymentId', UuidParam('deploymentId')) deploymentId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<RotatedKeyDto> {
    return this.commands.execute(new RotateDeploymentKey(projectId, deploymentId, { ...context, userId: user.id }));
  }

  @Delete(':deploymentId')
  @HttpCode(204)
  @ApiOperation({ operationId: 'undeployModel', summary: 'Undeploy: the endpoint answers 404 from now on' })
  @ApiNoContentResponse()
  @ApiErrors(400, 401, 404, 409)
  async undeploy(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('deploymentId', UuidParam('deploymentId')) deploymentId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.commands.execute(new UndeployModel(projectId, deploymentId, { ...context, userId: user.id }));
  }
}
