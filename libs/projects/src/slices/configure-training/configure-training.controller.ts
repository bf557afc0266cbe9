import { Body, Controller, Param, Put, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  ApiErrors,
  type AuthenticatedUser,
  Ctx,
  CurrentUser,
  type RequestContext,
  setEtag,
  UuidParam,
} from '@diyml/core';
import { ApiIfMatch, ETAG_HEADER, IfMatchRevision } from '../../http/if-match.js';
import { TrainingConfigDto, TrainingConfigInputDto } from '../../http/training-config.dto.js';
import { ConfigureTraining } from './configure-training.handler.js';

@ApiTags('training configuration')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/training-config')
export class ConfigureTrainingController {
  constructor(private readonly commands: CommandBus) {}

  @Put()
  @ApiOperation({
    operationId: 'configureTraining',
    summary: "Replace a project's training configuration",
    description:
      'Settings left out take their defaults (learningRate 0.001, epochs 10, batchSize 32, …; imageSize and ' +
      'architecture by project type). Out-of-range values are 400 VALIDATION_FAILED naming each field and its ' +
      'range; an architecture the project type does not know is 400 UNKNOWN_ARCHITECTURE listing the known ones, ' +
      'a backbone not in GET /v1/backbones 400 UNKNOWN_BACKBONE. The backbone a backbone architecture (or auto) would ' +
      'use is checked now, its weights downloaded once if it has a URL: 422 BACKBONE_WEIGHTS_MISSING, ' +
      'BACKBONE_CHECKSUM_MISMATCH or BACKBONE_DOWNLOAD_FAILED when it cannot be used.',
  })
  @ApiIfMatch()
  @ApiOkResponse({ type: TrainingConfigDto, headers: ETAG_HEADER })
  @ApiErrors(400, 401, 404, 409, 412, 422)
  async configure(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: TrainingConfigInputDto,
    @IfMatchRevision() expectedRevision: number | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TrainingConfigDto> {
    const { trainingConfig, revision } = await this.commands.execute(
      new ConfigureTraining(projectId, body, expectedRevision, { ...context, userId: user.id }),
    );
    setEtag(response, revision);
    return trainingConfig;
  }
}
