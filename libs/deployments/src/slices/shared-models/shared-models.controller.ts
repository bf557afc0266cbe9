import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  HttpCode,
  Injectable,
  Param,
  Post,
  Query,
  Req,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import {
  ApiErrors,
  type AuthenticatedUser,
  Clock,
  CurrentUser,
  DomainError,
  type HttpRequest,
  invalidIdError,
  isUuid,
  PageQueryDto,
  requestContextOf,
  UuidParam,
} from '@diyml/core';
import { decodeCursor, encodeCursor, ReadStore } from '@diyml/read-store';
import { DeploymentErrors } from '../../domain/deployment-errors.js';
import { DeploymentQueries } from '../../read-models/deployments/deployment-queries.js';
import { SHARED_MODELS, type SharedModelView } from '../../read-models/shared-models/shared-models.projection.js';
import type { PredictRequest } from '../predict/deployment-key.guard.js';
import { PredictionDto, PredictQueryDto } from '../predict/predict.controller.js';
import { PredictionImageInterceptor } from '../predict/prediction-image.interceptor.js';
import { PredictionService } from '../predict/prediction.service.js';
import { PredictionKeeper } from '../store-prediction/prediction-keeper.js';
import { trackUsage } from '../usage-reports/track-usage.js';
import { UsageRecorder } from '../usage-reports/usage-recorder.js';
import { SharedModelDto, SharedModelPageDto, toSharedModelDto } from './shared-model.dto.js';
import { SharedPredictThrottlerGuard } from './shared-predict-throttler.guard.js';

export class SearchSharedModelsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: 'fruit',
    description: 'Words that must all appear in the name, description or labels (case-insensitive).',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({
    enum: ['classification', 'multilabel', 'detection'],
    description: 'Only models of this task.',
  })
  @IsOptional()
  @IsIn(['classification', 'multilabel', 'detection'])
  task?: 'classification' | 'multilabel' | 'detection';
}

export class SharedPredictionResultDto {
  @ApiProperty({ format: 'uuid', description: 'The shared model.' }) deploymentId: string;
  @ApiProperty({ type: [PredictionDto], description: 'Most probable first.' }) predictions: PredictionDto[];
}

function newestFirst(a: Pick<SharedModelView, 'sharedAt' | 'id'>, b: Pick<SharedModelView, 'sharedAt' | 'id'>): number {
  if (a.sharedAt !== b.sharedAt) return a.sharedAt < b.sharedAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function notShared(deploymentId: string): DomainError {
  return DomainError.notFound(DeploymentErrors.SHARED_MODEL_NOT_FOUND, `No model is shared as ${deploymentId}.`);
}

/** Finds the shared deployment of a prediction (404 when not shared) and counts the call for its owner. */
@Injectable()
export class SharedModelGuard implements CanActivate {
  constructor(
    private readonly deployments: DeploymentQueries,
    private readonly usage: UsageRecorder,
    private readonly clock: Clock,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<PredictRequest & HttpRequest>();
    const deploymentId = String(request.params.deploymentId ?? '');
    // Refused here, not by the route's UuidParam: pipes run after the interceptor that reads the image.
    if (!isUuid(deploymentId)) throw invalidIdError('deploymentId');
    const deployment = await this.deployments.findActive(deploymentId);
    if (!deployment?.shared) throw notShared(deploymentId);
    trackUsage(this.usage, this.clock, context.switchToHttp().getResponse<Response>(), {
      projectId: deployment.projectId,
      deploymentId: deployment.id,
      callerId: request.user!.id,
    });
    request.deployment = deployment;
    return true;
  }
}

/** Models other users shared with the installation: find them, and predict with them with your own token. */
@ApiTags('shared models')
@ApiBearerAuth()
@Controller('v1/shared-models')
export class SharedModelsController {
  constructor(
    private readonly readStore: ReadStore,
    private readonly predictions: PredictionService,
    private readonly keeper: PredictionKeeper,
  ) {}

  private get models() {
    return this.readStore.collection<SharedModelView>(SHARED_MODELS);
  }

  @Get()
  @ApiOperation({
    operationId: 'listSharedModels',
    summary: 'Models shared by the users of this installation, newest first, searchable',
  })
  @ApiOkResponse({ type: SharedModelPageDto })
  @ApiErrors(400, 401)
  async list(@Query() query: SearchSharedModelsQueryDto): Promise<SharedModelPageDto> {
    const words = (query.q ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    const matching = (await this.models.findAll(query.task ? { task: query.task } : {}))
      .filter((model) => {
        const text = [model.name, model.description, ...model.labels].join('\n').toLowerCase();
        return words.every((word) => text.includes(word));
      })
      .sort(newestFirst);
    let start = 0;
    if (query.cursor) {
      // The first model after the cursor's, even if that one was unshared since.
      const [sharedAt, id] = decodeCursor(query.cursor);
      start = matching.findIndex((model) => newestFirst(model, { sharedAt: String(sharedAt), id }) > 0);
      if (start < 0) start = matching.length;
    }
    const limit = query.limit ?? 50;
    const items = matching.slice(start, start + limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toSharedModelDto),
      nextCursor: last && start + limit < matching.length ? encodeCursor(last.sharedAt, last.id) : null,
    };
  }

  @Get(':deploymentId')
  @ApiOperation({ operationId: 'getSharedModel', summary: 'A shared model' })
  @ApiOkResponse({ type: SharedModelDto })
  @ApiErrors(400, 401, 404)
  async get(@Param('deploymentId', UuidParam('deploymentId')) deploymentId: string): Promise<SharedModelDto> {
    const model = await this.models.get(deploymentId);
    if (!model) throw notShared(deploymentId);
    return toSharedModelDto(model);
  }

  @Post(':deploymentId/predict')
  @HttpCode(200)
  @UseGuards(SharedModelGuard, SharedPredictThrottlerGuard)
  @UseInterceptors(PredictionImageInterceptor)
  @ApiOperation({
    operationId: 'predictWithSharedModel',
    summary: 'Predict with a shared model, signed in with your own token (a personal token dml_… or a login token)',
    description:
      'The image as the raw body (image/*) or the multipart field `image`, as for /v1/predict. Limited to SHARED_PREDICT_RATE_LIMIT ' +
      'predictions per SHARED_PREDICT_RATE_WINDOW_SECONDS per user (429 with Retry-After). The owner sees the number of your calls ' +
      "in the deployment's usage report, and keeps the image if the deployment's prediction store is on.",
  })
  @ApiConsumes('image/png', 'image/jpeg', 'image/webp', 'multipart/form-data')
  @ApiBody({
    schema: {
      oneOf: [
        { type: 'string', format: 'binary', description: 'The image bytes.' },
        { type: 'object', required: ['image'], properties: { image: { type: 'string', format: 'binary' } } },
      ],
    },
  })
  @ApiOkResponse({ type: SharedPredictionResultDto })
  @ApiErrors(400, 401, 404, 413, 415, 429, 503)
  async predict(
    @Param('deploymentId', UuidParam('deploymentId')) _deploymentId: string,
    @Query() query: PredictQueryDto,
    @Req() request: PredictRequest & HttpRequest,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<SharedPredictionResultDto> {
    const deployment = request.deployment!;
    // Converted once (a HEIC photo), so the prediction store keeps the picture predicted on.
    const image = await this.predictions.takenImage(request.predictionImage!);
    const predictions = await this.predictions.predict(deployment.modelSha256, deployment.labels, image, query);
    if (this.keeper.keeps(deployment)) {
      await this.keeper.keep(deployment, image, predictions, {
        userId: user.id,
        correlationId: requestContextOf(request).correlationId,
      });
    }
    // Other users see neither the project nor the iteration.
    return { deploymentId: deployment.id, predictions };
  }
}
