import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import type { LabelView, ProjectView } from '@diyml/projects';
import { AddLabel } from '@diyml/projects';
import { RemoveLabel } from '@diyml/projects';
import { RenameLabel } from '@diyml/projects';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { type CvTag, toCvTag } from '../../domain/shapes.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE, userContext } from '../../http/custom-vision-controller.js';
import { optionalUuid, requiredString } from '../../http/query.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import { CvTagDto } from '../../http/custom-vision.dto.js';

function tagOf(project: ProjectView, tagId: string): LabelView {
  const label = project.labels.find((candidate) => candidate.id === tagId.toLowerCase());
  if (!label) throw CustomVisionError.notFound('NotFoundTag', `Tag ${tagId} does not exist in this project.`);
  return label;
}

/** Tags are the project's labels: AddLabel / RenameLabel / RemoveLabel of the projects context. */
@CustomVisionTrainingController()
@CustomVisionErrors(400)
@Controller(`${TRAINING_BASE}/projects/:projectId/tags`)
export class TagsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly reads: CustomVisionReads,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'CustomVision_GetTags',
    summary: "Custom Vision: the project's tags (?iterationId=: the tags an iteration learned)",
  })
  @ApiOkResponse({ type: [CvTagDto] })
  async list(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query('iterationId') iterationId: unknown,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvTag[]> {
    const project = await this.reads.project(projectId, user.id);
    const counts = await this.reads.labelImageCounts(projectId);
    const wanted = optionalUuid(iterationId, 'iterationId');
    const labels = wanted ? (await this.reads.iteration(projectId, wanted)).labels : project.labels;
    return labels.map((label) => toCvTag(label, counts.get(label.id) ?? 0));
  }

  @Post()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_CreateTag',
    summary: 'Custom Vision: create a tag (?name=&description=&type=Regular)',
  })
  @ApiOkResponse({ type: CvTagDto })
  async create(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query('name') name: unknown,
    @Query('type') type: unknown,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<CvTag> {
    if (type !== undefined && type !== 'Regular') {
      throw CustomVisionError.badRequest(
        'BadRequestTagType',
        `Tags of type ${String(type)} are not supported: only Regular tags.`,
      );
    }
    const written = await this.commands.execute(
      new AddLabel(projectId, requiredString(name, 'name'), undefined, userContext(context, user)),
    );
    return toCvTag(written.label, 0);
  }

  @Get(':tagId')
  @ApiOperation({ operationId: 'CustomVision_GetTag', summary: 'Custom Vision: a tag' })
  @ApiOkResponse({ type: CvTagDto })
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('tagId', UuidParam('tagId')) tagId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvTag> {
    const label = tagOf(await this.reads.project(projectId, user.id), tagId);
    return toCvTag(label, (await this.reads.labelImageCounts(projectId)).get(label.id) ?? 0);
  }

  @Patch(':tagId')
  @ApiOperation({ operationId: 'CustomVision_UpdateTag', summary: 'Custom Vision: rename a tag' })
  @ApiOkResponse({ type: CvTagDto })
  async update(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('tagId', UuidParam('tagId')) tagId: string,
    @Body() body: Record<string, unknown>,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<CvTag> {
    const label = tagOf(await this.reads.project(projectId, user.id), tagId);
    if (typeof body?.name === 'string' && body.name !== label.name) {
      await this.commands.execute(
        new RenameLabel(projectId, label.id, body.name, undefined, userContext(context, user)),
      );
    }
    return this.get(projectId, tagId, user);
  }

  @Delete(':tagId')
  @HttpCode(204)
  @ApiOperation({ operationId: 'CustomVision_DeleteTag', summary: 'Custom Vision: delete a tag' })
  @ApiNoContentResponse()
  async delete(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('tagId', UuidParam('tagId')) tagId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.commands.execute(new RemoveLabel(projectId, tagId.toLowerCase(), undefined, userContext(context, user)));
  }
}
