import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors, type AuthenticatedUser, CurrentUser, setEtag, UuidParam } from '@diyml/core';
import { ETAG_HEADER } from '../../http/if-match.js';
import { TrainingConfigDto } from '../../http/training-config.dto.js';
import { ProjectAccess } from '../../project-access.js';

@ApiTags('training configuration')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/training-config')
export class GetTrainingConfigController {
  constructor(private readonly access: ProjectAccess) {}

  @Get()
  @ApiOperation({
    operationId: 'getTrainingConfig',
    summary: "A project's training configuration: what the next iteration trains with",
  })
  @ApiOkResponse({ type: TrainingConfigDto, headers: ETAG_HEADER })
  @ApiErrors(400, 401, 404)
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TrainingConfigDto> {
    const project = await this.access.getOwned(projectId, user.id);
    setEtag(response, project.revision);
    return project.trainingConfig;
  }
}
