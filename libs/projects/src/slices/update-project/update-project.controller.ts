import { Body, Controller, Param, Patch, Res } from '@nestjs/common';
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
import { ProjectDto } from '../../http/project.dto.js';
import { UpdateProjectDto } from './update-project.dto.js';
import { UpdateProject } from './update-project.handler.js';

@ApiTags('projects')
@ApiBearerAuth()
@Controller('v1/projects')
export class UpdateProjectController {
  constructor(private readonly commands: CommandBus) {}

  @Patch(':projectId')
  @ApiOperation({
    operationId: 'updateProject',
    summary: 'Rename a project, change its description or switch classification ↔ multilabel',
  })
  @ApiIfMatch()
  @ApiOkResponse({ type: ProjectDto, headers: ETAG_HEADER })
  @ApiErrors(400, 401, 404, 409, 412)
  async update(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: UpdateProjectDto,
    @IfMatchRevision() expectedRevision: number | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ProjectDto> {
    const changes = {
      name: body.name,
      description: body.description === null ? '' : body.description,
      type: body.type,
    };
    const project = await this.commands.execute(
      new UpdateProject(projectId, changes, expectedRevision, { ...context, userId: user.id }),
    );
    setEtag(response, project.revision);
    return project;
  }
}
