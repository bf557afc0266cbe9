import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors, type AuthenticatedUser, CurrentUser, setEtag, UuidParam } from '@diyml/core';
import { ETAG_HEADER } from '../../http/if-match.js';
import { ProjectDto, toProjectDto } from '../../http/project.dto.js';
import { ProjectAccess } from '../../project-access.js';

@ApiTags('projects')
@ApiBearerAuth()
@Controller('v1/projects')
export class GetProjectController {
  constructor(private readonly access: ProjectAccess) {}

  @Get(':projectId')
  @ApiOperation({
    operationId: 'getProject',
    summary: 'One of your projects, with its labels and training configuration',
  })
  @ApiOkResponse({ type: ProjectDto, headers: ETAG_HEADER })
  @ApiErrors(400, 401, 404)
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ProjectDto> {
    const project = await this.access.getOwned(projectId, user.id);
    setEtag(response, project.revision);
    return toProjectDto(project);
  }
}
