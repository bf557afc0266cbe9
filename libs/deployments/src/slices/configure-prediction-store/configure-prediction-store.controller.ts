import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, Max, Min, ValidateIf } from 'class-validator';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import type { PredictionStoreSettings } from '../../domain/deployment.events.js';
import { DeploymentQueries } from '../../read-models/deployments/deployment-queries.js';
import { DeploymentCommandRunner } from '../deployment-command.js';
import { PredictionKeeper } from '../store-prediction/prediction-keeper.js';

/** Kept when the store is turned on without limits, so an endpoint cannot fill the disk by default. */
export const DEFAULT_PREDICTION_STORE_MAX_COUNT = 10_000;
export const MAX_PREDICTION_STORE_COUNT = 1_000_000;

export class PredictionStoreDto {
  @ApiProperty({ description: 'Keep the image and the answer of every prediction.' })
  @IsBoolean()
  enabled: boolean;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: MAX_PREDICTION_STORE_COUNT,
    description: `At most this many stored predictions: the oldest go first. Default ${DEFAULT_PREDICTION_STORE_MAX_COUNT} when neither limit is given; null: no count limit.`,
  })
  @IsOptional()
  @ValidateIf((body: PredictionStoreDto) => body.maxCount !== null)
  @IsInt()
  @Min(1)
  @Max(MAX_PREDICTION_STORE_COUNT)
  maxCount?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: 3650,
    description: 'Stored predictions older than this many days go. null: no age limit.',
  })
  @IsOptional()
  @ValidateIf((body: PredictionStoreDto) => body.maxAgeDays !== null)
  @IsInt()
  @Min(1)
  @Max(3650)
  maxAgeDays?: number | null;
}

export class PredictionStoreSettingsDto {
  @ApiProperty() enabled: boolean;
  @ApiProperty({ type: Number, nullable: true }) maxCount: number | null;
  @ApiProperty({ type: Number, nullable: true }) maxAgeDays: number | null;
}

const OFF: PredictionStoreSettings = { enabled: false, maxCount: null, maxAgeDays: null };

/** Turns a deployment's prediction store on or off and sets its retention limits. */
@ApiTags('stored predictions')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/deployments/:deploymentId/prediction-store')
export class ConfigurePredictionStoreController {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly deployments: DeploymentQueries,
    private readonly runner: DeploymentCommandRunner,
    private readonly keeper: PredictionKeeper,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'getPredictionStore',
    summary: "The deployment's prediction store settings (off until configured)",
  })
  @ApiOkResponse({ type: PredictionStoreSettingsDto })
  @ApiErrors(400, 401, 404)
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('deploymentId', UuidParam('deploymentId')) deploymentId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<PredictionStoreSettingsDto> {
    await this.projects.getOwned(projectId, user.id);
    return (await this.deployments.get(projectId, deploymentId)).predictionStore ?? OFF;
  }

  @Put()
  @ApiOperation({
    operationId: 'configurePredictionStore',
    summary: 'Keep (or stop keeping) the images and results of the deployment’s predictions, with retention limits',
    description:
      'Stored predictions are listed under GET /v1/projects/{projectId}/predictions and can be promoted into the dataset. ' +
      'Lowering a limit deletes what is beyond it shortly after. Custom Vision publishing turns the store on (its default).',
  })
  @ApiOkResponse({ type: PredictionStoreSettingsDto })
  @ApiErrors(400, 401, 404)
  async configure(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('deploymentId', UuidParam('deploymentId')) deploymentId: string,
    @Body() body: PredictionStoreDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<PredictionStoreSettingsDto> {
    await this.projects.getOwned(projectId, user.id);
    await this.deployments.get(projectId, deploymentId);
    const noLimits = body.maxCount === undefined && body.maxAgeDays === undefined;
    const settings: PredictionStoreSettings = {
      enabled: body.enabled,
      maxCount: noLimits ? DEFAULT_PREDICTION_STORE_MAX_COUNT : (body.maxCount ?? null),
      maxAgeDays: body.maxAgeDays ?? null,
    };
    await this.runner.run(
      deploymentId,
      { type: 'ConfigurePredictionStore', ...settings },
      { ...context, userId: user.id },
    );
    this.keeper.scheduleSweep(deploymentId);
    return settings;
  }
}
