import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, setEtag } from '@diyml/core';
import { ETAG_HEADER } from '../../http/if-match.js';
import { ProjectDto } from '../../http/project.dto.js';
import { CreateProjectDto } from './create-project.dto.js';
import { CreateProject } from './create-project.handler.js';

@ApiTags('projects')
@ApiBearerAuth()
@Controller('v1/projects')
export class CreateProjectController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    operationId: 'createProject',
    summary: 'Create a classification or detection project, with the default training configuration',
    description: 'A user may own MAX_PROJECTS_PER_USER projects (default 100): 422 PROJECT_LIMIT_REACHED beyond.',
  })
  @ApiCreatedResponse({
    type: ProjectDto,
    headers: { ...ETAG_HEADER, Location: { description: 'URL of the new project.', schema: { type: 'string' } } },
  })
  @ApiErrors(400, 401, 422)
  async create(
    @Body() body: CreateProjectDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ProjectDto> {
    const project = await this.commands.execute(
      new CreateProject(body.name, body.type, body.description, { ...context, userId: user.id }),
    );
    setEtag(response, project.revision);
    response.setHeader('Location', `/v1/projects/${project.id}`);
    return project;
  }
}
