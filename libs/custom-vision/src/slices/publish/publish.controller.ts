import { Controller, Delete, HttpCode, Param, Post, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { DeployModel } from '@diyml/deployments';
import { UndeployModel } from '@diyml/deployments';
import { DEFAULT_PREDICTION_STORE_MAX_COUNT } from '@diyml/deployments';
import { DeploymentCommandRunner } from '@diyml/deployments';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE, userContext } from '../../http/custom-vision-controller.js';
import { CvPublishIterationQueryDto } from './publish.dto.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';

/** Publish names go into prediction URLs, and are the deployment's name (at most 100 characters). */
const PUBLISH_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Publishing an iteration is deploying it (DeployModel) under the publish name as the deployment's name,
 * with its prediction store on (Custom Vision's default);
 * unpublishing undeploys it (UndeployModel). No state of its own: the publish name of an iteration is the name
 * of its active deployment.
 */
@CustomVisionTrainingController()
@CustomVisionErrors(400)
@Controller(`${TRAINING_BASE}/projects/:projectId/iterations/:iterationId/publish`)
export class PublishController {
  constructor(
    private readonly commands: CommandBus,
    private readonly reads: CustomVisionReads,
    private readonly deployments: DeploymentCommandRunner,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_PublishIteration',
    summary: 'Custom Vision: publish an iteration (?publishName=&predictionId=&overwrite=)',
    description:
      'Deploys the iteration with the publish name as the deployment name. predictionId (an Azure resource id) is accepted and not used: ' +
      'predictions authenticate with a personal API token of the owner, or the deployment key.',
  })
  @ApiOkResponse({ schema: { type: 'boolean', example: true }, description: 'true once it is published.' })
  async publish(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() query: CvPublishIterationQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<boolean> {
    const name = query.publishName.trim();
    if (!PUBLISH_NAME.test(name)) {
      throw CustomVisionError.badRequest(
        'BadRequestInvalidPublishName',
        'A publish name has 1 to 100 letters, digits, dots, dashes or underscores, and starts with a letter or digit.',
      );
    }
    await this.reads.project(projectId, user.id);
    const iteration = await this.reads.iteration(projectId, iterationId);
    const active = await this.reads.activeDeployments(projectId);
    const own = active.filter((deployment) => deployment.iterationId === iterationId);
    if (own.some((deployment) => deployment.name === name)) return true;
    if (own.length > 0) {
      throw CustomVisionError.badRequest(
        'BadRequestIterationIsPublished',
        `The iteration is already published as "${own[0].name}": unpublish it first.`,
      );
    }
    const taken = active.filter((deployment) => deployment.name === name);
    if (taken.length > 0 && !query.overwrite) {
      throw CustomVisionError.badRequest(
        'BadRequestInvalidPublishName',
        `Another iteration is published as "${name}": unpublish it, or publish with overwrite=true.`,
      );
    }
    if (iteration.status !== 'completed') {
      throw CustomVisionError.badRequest(
        'BadRequestIterationIsNotTrained',
        `The iteration is ${iteration.status}: only a trained iteration can be published.`,
      );
    }
    const ctx = userContext(context, user);
    // Overwriting frees the name first: no two active deployments of a project share a name.
    for (const previous of taken) await this.commands.execute(new UndeployModel(projectId, previous.id, ctx));
    const deployed = await this.commands.execute(new DeployModel(projectId, iterationId, name, ctx));
    // Custom Vision keeps the predictions of published iterations (unless called through …/nostore).
    await this.deployments.run(
      deployed.id,
      {
        type: 'ConfigurePredictionStore',
        enabled: true,
        maxCount: DEFAULT_PREDICTION_STORE_MAX_COUNT,
        maxAgeDays: null,
      },
      ctx,
    );
    return true;
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    operationId: 'CustomVision_UnpublishIteration',
    summary: 'Custom Vision: unpublish an iteration (undeploys it)',
  })
  @ApiNoContentResponse()
  async unpublish(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.reads.project(projectId, user.id);
    await this.reads.iteration(projectId, iterationId);
    const own = (await this.reads.activeDeployments(projectId)).filter(
      (deployment) => deployment.iterationId === iterationId,
    );
    if (own.length === 0)
      throw CustomVisionError.badRequest('BadRequestIterationNotPublished', 'The iteration is not published.');
    for (const deployment of own)
      await this.commands.execute(new UndeployModel(projectId, deployment.id, userContext(context, user)));
  }
}
