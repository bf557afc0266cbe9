import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiNoContentResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { PROJECTS, type ProjectView } from '@diyml/projects';
import { CreateProject } from '@diyml/projects';
import { DeleteProject } from '@diyml/projects';
import { type ProjectType, UpdateProject } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { DEFAULT_DOMAIN, findDomain, projectTypeOf } from '../../domain/domains.js';
import { type CvProject, toCvProject } from '../../domain/shapes.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE, userContext } from '../../http/custom-vision-controller.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import { CvProjectDto } from '../../http/custom-vision.dto.js';
import { CvCreateProjectOptionsDto, CvCreateProjectQueryDto, CvUpdateProjectDto } from './projects.dto.js';

/** Projects: CreateProject / UpdateProject / DeleteProject of the projects context; the domain picks the type. */
@CustomVisionTrainingController()
@Controller(TRAINING_BASE)
export class ProjectsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly reads: CustomVisionReads,
    private readonly readStore: ReadStore,
  ) {}

  @Get('projects')
  @ApiOperation({ operationId: 'CustomVision_GetProjects', summary: 'Custom Vision: your projects' })
  @ApiOkResponse({ type: [CvProjectDto] })
  async list(@CurrentUser() user: AuthenticatedUser): Promise<CvProject[]> {
    const projects = await this.readStore.collection<ProjectView>(PROJECTS).findAll({ ownerId: user.id });
    return projects.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map(toCvProject);
  }

  @Post('projects')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_CreateProject',
    summary: 'Custom Vision: create a project (?name=&description=&domainId=&classificationType=)',
  })
  @ApiOkResponse({ type: CvProjectDto })
  @ApiBody({ type: CvCreateProjectOptionsDto, required: false })
  @CustomVisionErrors(400)
  async create(
    @Query() query: CvCreateProjectQueryDto,
    @Body() _options: CvCreateProjectOptionsDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<CvProject> {
    const { name, description, domainId, classificationType } = query;
    const domain = findDomain(domainId ?? DEFAULT_DOMAIN.classification.id);
    const created = await this.commands.execute(
      new CreateProject(
        name.trim(),
        projectTypeOf(domain, classificationType),
        description,
        userContext(context, user),
      ),
    );
    return toCvProject(await this.reads.project(created.id, user.id));
  }

  @Get('projects/:projectId')
  @ApiOperation({ operationId: 'CustomVision_GetProject', summary: 'Custom Vision: a project' })
  @ApiOkResponse({ type: CvProjectDto })
  @CustomVisionErrors(400)
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvProject> {
    return toCvProject(await this.reads.project(projectId, user.id));
  }

  @Patch('projects/:projectId')
  @ApiOperation({
    operationId: 'CustomVision_UpdateProject',
    summary:
      'Custom Vision: rename or describe a project, or switch its classificationType (the domain type cannot change)',
  })
  @ApiOkResponse({ type: CvProjectDto })
  @CustomVisionErrors(400)
  async update(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: CvUpdateProjectDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<CvProject> {
    const project = await this.reads.project(projectId, user.id);
    const domainId = body.settings?.domainId;
    if (
      domainId !== undefined &&
      (findDomain(domainId).type === 'ObjectDetection') !== (project.type === 'detection')
    ) {
      throw CustomVisionError.badRequest(
        'BadRequestProjectUnsupportedDomainTypeChange',
        'A project cannot change between classification and object detection.',
      );
    }
    const changes: { name?: string; description?: string; type?: ProjectType } = {};
    if (typeof body.name === 'string' && body.name !== project.name) changes.name = body.name;
    if (typeof body.description === 'string' && body.description !== project.description)
      changes.description = body.description;
    // Multiclass ↔ Multilabel; an object detection project has none (refused: BadRequestProjectUnsupportedDomainTypeChange).
    const classificationType = body.settings?.classificationType;
    if (classificationType) {
      const type = classificationType === 'Multilabel' ? 'multilabel' : 'classification';
      if (type !== project.type) changes.type = type;
    }
    if (changes.name !== undefined || changes.description !== undefined || changes.type !== undefined) {
      await this.commands.execute(new UpdateProject(projectId, changes, undefined, userContext(context, user)));
    }
    return toCvProject(await this.reads.project(projectId, user.id));
  }

  @Delete('projects/:projectId')
  @HttpCode(204)
  @ApiOperation({ operationId: 'CustomVision_DeleteProject', summary: 'Custom Vision: delete a project' })
  @ApiNoContentResponse()
  @CustomVisionErrors(400)
  async delete(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.commands.execute(new DeleteProject(projectId, undefined, userContext(context, user)));
  }
}
