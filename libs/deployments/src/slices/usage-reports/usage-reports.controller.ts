import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsISO8601, IsOptional } from 'class-validator';
import { ApiErrors, type AuthenticatedUser, CurrentUser, UuidParam } from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { USERS } from '@diyml/identity';
import { DEPLOYMENT_KEY_CALLER } from '../../domain/usage.events.js';
import { DeploymentQueries } from '../../read-models/deployments/deployment-queries.js';
import { type UsageGranularity, UsageQueries, type UsageReport } from '../../read-models/usage/usage-queries.js';

const toIso = ({ value }: { value: unknown }) =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : value;

export class UsageQueryDto {
  @ApiPropertyOptional({ enum: ['hour', 'day'], default: 'day', description: 'Periods of one hour or one UTC day.' })
  @IsOptional()
  @IsIn(['hour', 'day'])
  granularity?: UsageGranularity;

  @ApiPropertyOptional({ format: 'date-time', description: 'From this hour on.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 date-time' })
  @Transform(toIso)
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Hours starting before this time.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO-8601 date-time' })
  @Transform(toIso)
  to?: string;
}

export class LatencyDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Milliseconds, from the server receiving the call to its answer.',
  })
  p50: number | null;
  @ApiProperty({ type: Number, nullable: true }) p95: number | null;
  @ApiProperty({ type: Number, nullable: true }) p99: number | null;
}

export class UsageFiguresDto {
  @ApiProperty({ description: 'Prediction calls, failed ones included.' }) calls: number;
  @ApiProperty() errorCount: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    example: { INVALID_IMAGE: 2, TOO_MANY_REQUESTS: 1 },
  })
  errors: Record<string, number>;
  @ApiProperty({ type: LatencyDto }) latencyMs: LatencyDto;
}

export class UsagePeriodDto extends UsageFiguresDto {
  @ApiProperty({ format: 'date-time', description: 'Start of the hour or UTC day.' }) start: string;
}

export class UsageCallerDto {
  @ApiProperty({ description: `A user id, or "${DEPLOYMENT_KEY_CALLER}" for calls with the deployment key.` })
  callerId: string;
  @ApiProperty({ type: String, nullable: true, description: 'The user’s name (null for the deployment key).' })
  username: string | null;
  @ApiProperty() calls: number;
}

export class UsageReportDto {
  @ApiProperty({ enum: ['hour', 'day'] }) granularity: string;
  @ApiProperty({ type: UsageFiguresDto }) totals: UsageFiguresDto;
  @ApiProperty({ type: [UsagePeriodDto], description: 'Periods with calls, oldest first.' }) periods: UsagePeriodDto[];
  @ApiProperty({ type: [UsageCallerDto], description: 'Who called, most calls first.' }) callers: UsageCallerDto[];
}

const DESCRIPTION =
  'Counted by every api process and written to the log every USAGE_FLUSH_SECONDS and at shutdown (so they survive ' +
  'restarts; the last interval of a crashed process is lost). Latency percentiles come from histograms with buckets about ' +
  '25 % wide. Calls of shared models count under the calling user.';

/** Usage reports of a project and of each deployment, for the owner. */
@ApiTags('usage')
@ApiBearerAuth()
@Controller('v1/projects/:projectId')
export class UsageReportsController {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly deployments: DeploymentQueries,
    private readonly usage: UsageQueries,
    private readonly readStore: ReadStore,
  ) {}

  @Get('usage')
  @ApiOperation({
    operationId: 'getProjectUsage',
    summary:
      "Usage of all the project's deployments (undeployed ones included): calls, errors by code, latency, callers",
    description: DESCRIPTION,
  })
  @ApiOkResponse({ type: UsageReportDto })
  @ApiErrors(400, 401, 404)
  async project(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: UsageQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<UsageReportDto> {
    await this.projects.getOwned(projectId, user.id);
    return this.withNames(await this.usage.report({ projectId }, query.granularity ?? 'day', query));
  }

  @Get('deployments/:deploymentId/usage')
  @ApiOperation({
    operationId: 'getDeploymentUsage',
    summary: 'Usage of a deployment: calls, errors by code, latency p50/p95/p99 per hour or day, callers',
    description: DESCRIPTION,
  })
  @ApiOkResponse({ type: UsageReportDto })
  @ApiErrors(400, 401, 404)
  async deployment(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('deploymentId', UuidParam('deploymentId')) deploymentId: string,
    @Query() query: UsageQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<UsageReportDto> {
    await this.projects.getOwned(projectId, user.id);
    await this.deployments.get(projectId, deploymentId);
    return this.withNames(await this.usage.report({ projectId, deploymentId }, query.granularity ?? 'day', query));
  }

  private async withNames(report: UsageReport): Promise<UsageReportDto> {
    const users = this.readStore.collection<{ id: string; username: string }>(USERS);
    const callers = await Promise.all(
      report.callers.map(async (caller) => ({
        ...caller,
        username:
          caller.callerId === DEPLOYMENT_KEY_CALLER ? null : ((await users.get(caller.callerId))?.username ?? null),
      })),
    );
    return { ...report, callers };
  }
}
