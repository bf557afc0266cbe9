import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import type { LabelView } from '@diyml/projects';
import { AddLabel } from '@diyml/projects';
import { RemoveLabel } from '@diyml/projects';
import { RenameLabel } from '@diyml/projects';
import { SetLabelNegative } from '@diyml/projects';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { type CvTag, toCvTag } from '../../domain/shapes.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE, userContext } from '../../http/custom-vision-controller.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import { CvTagDto } from '../../http/custom-vision.dto.js';
import { CvCreateTagQueryDto, CvTagsQueryDto, CvUpdateTagDto } from './tags.dto.js';

function tagOf(labels: readonly LabelView[], tagId: string): LabelView {
  const label = labels.find((candidate) => candidate.id === tagId.toLowerCase());
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
    @Query() query: CvTagsQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvTag[]> {
    const labels = await this.labels(projectId, query.iterationId, user);
    const counts = await this.reads.labelImageCounts(projectId);
    return labels.map((label) => toCvTag(label, counts.get(label.id) ?? 0));
  }

  @Post()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_CreateTag',
    summary: 'Custom Vision: create a tag (?name=&description=&type=Regular|Negative)',
  })
  @ApiOkResponse({ type: CvTagDto })
  async create(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvCreateTagQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<CvTag> {
    const written = await this.commands.execute(
      new AddLabel(projectId, query.name.trim(), undefined, userContext(context, user), query.type === 'Negative'),
    );
    return toCvTag(written.label, 0);
  }

  @Get(':tagId')
  @ApiOperation({
    operationId: 'CustomVision_GetTag',
    summary: 'Custom Vision: a tag (?iterationId=: as an iteration learned it)',
  })
  @ApiOkResponse({ type: CvTagDto })
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('tagId', UuidParam('tagId')) tagId: string,
    @Query() query: CvTagsQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvTag> {
    const label = tagOf(await this.labels(projectId, query.iterationId, user), tagId);
    return toCvTag(label, (await this.reads.labelImageCounts(projectId)).get(label.id) ?? 0);
  }

  @Patch(':tagId')
  @ApiOperation({
    operationId: 'CustomVision_UpdateTag',
    summary: 'Custom Vision: rename a tag, or make it Negative or Regular',
  })
  @ApiOkResponse({ type: CvTagDto })
  async update(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('tagId', UuidParam('tagId')) tagId: string,
    @Body() body: CvUpdateTagDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<CvTag> {
    const label = tagOf((await this.reads.project(projectId, user.id)).labels, tagId);
    if (typeof body.name === 'string' && body.name !== label.name) {
      await this.commands.execute(
        new RenameLabel(projectId, label.id, body.name, undefined, userContext(context, user)),
      );
    }
    if (body.type !== undefined) {
      await this.commands.execute(
        new SetLabelNegative(projectId, label.id, body.type === 'Negative', undefined, userContext(context, user)),
      );
    }
    return this.get(projectId, tagId, {}, user);
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

  /** The project's labels, or those an iteration learned. */
  private async labels(projectId: string, iterationId: string | undefined, user: AuthenticatedUser) {
    const project = await this.reads.project(projectId, user.id);
    return iterationId ? (await this.reads.iteration(projectId, iterationId)).labels : project.labels;
  }
}
