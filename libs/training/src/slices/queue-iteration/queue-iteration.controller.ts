import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsObject, IsOptional } from 'class-validator';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { type TrainingConfigInput, TrainingConfigInputDto } from '@diyml/projects';
import { CancelIteration } from '../cancel-iteration/cancel-iteration.handler.js';
import { IterationDto, toIterationDto } from '../read-iterations/iteration.dto.js';
import { QueueIteration, ReproduceIteration } from './queue-iteration.handler.js';

export class QueueIterationDto {
  @ApiPropertyOptional({
    type: TrainingConfigInputDto,
    description:
      "Overrides of the project's training configuration for this run only: any of its settings, with the same " +
      'ranges as PUT …/training-config; those left out keep the project’s values.',
    example: { epochs: 5, learningRate: 0.002 },
  })
  // The handler checks the settings against the project's type (mergeTrainingConfig), naming each bad field.
  @IsOptional()
  @IsObject()
  trainingConfig?: TrainingConfigInput;
}

@ApiTags('training')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/iterations')
export class QueueIterationController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    operationId: 'queueIteration',
    summary: 'Train a new iteration in the background',
    description:
      'Freezes the dataset as it is now and queues training. Follow progress with GET …/iterations/{id} or …/events. ' +
      "Architecture 'auto' is resolved now from the images (backbone-classifier or backbone-detector for photos, small-cnn or tiny-detector for small images) " +
      'and recorded in the iteration. 422 DATASET_NOT_READY names what is missing; a backbone that cannot be used is ' +
      '422 BACKBONE_WEIGHTS_MISSING, BACKBONE_CHECKSUM_MISMATCH or BACKBONE_DOWNLOAD_FAILED (nothing is queued). ' +
      'A user may have MAX_ACTIVE_TRAININGS_PER_USER (default 5) trainings queued or running at once: 429 ' +
      'TOO_MANY_ACTIVE_TRAININGS beyond.',
  })
  @ApiAcceptedResponse({ type: IterationDto })
  @ApiErrors(400, 401, 404, 422, 429)
  async queue(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: QueueIterationDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<IterationDto> {
    const iteration = await this.commands.execute(
      new QueueIteration(projectId, body.trainingConfig, { ...context, userId: user.id }),
    );
    return toIterationDto(iteration);
  }

  @Post(':iterationId/reproduce')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'reproduceIteration',
    summary: 'Train again on the same frozen dataset, configuration and seed',
    description:
      'The new iteration records `reproducedFrom`; once completed, `reproduction` says whether metrics and model match. ' +
      'It counts as one of the MAX_ACTIVE_TRAININGS_PER_USER trainings a user may have at once (429 TOO_MANY_ACTIVE_TRAININGS).',
  })
  @ApiAcceptedResponse({ type: IterationDto })
  @ApiErrors(400, 401, 404, 422, 429)
  async reproduce(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<IterationDto> {
    const iteration = await this.commands.execute(
      new ReproduceIteration(projectId, iterationId, { ...context, userId: user.id }),
    );
    return toIterationDto(iteration);
  }

  @Post(':iterationId/cancel')
  @HttpCode(200)
  @ApiOperation({ operationId: 'cancelIteration', summary: 'Cancel a queued or running iteration' })
  @ApiOkResponse({ type: IterationDto })
  @ApiErrors(400, 401, 404, 409)
  async cancel(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<IterationDto> {
    const iteration = await this.commands.execute(
      new CancelIteration(projectId, iterationId, { ...context, userId: user.id }),
    );
    return toIterationDto(iteration);
  }
}
