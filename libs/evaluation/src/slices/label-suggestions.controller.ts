import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { IMAGES, type ImageView, resolveLabel } from '@diyml/datasets';
import { ProjectAccess } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { LabelSuggestionQueries } from '../read-models/label-suggestions/label-suggestion-queries.js';
import {
  AcceptSuggestions,
  AcceptSuggestionsDto,
  AcceptSuggestionsResultDto,
} from './accept-suggestions/accept-suggestions.handler.js';
import {
  LabelSuggestionPageDto,
  ListSuggestionsQueryDto,
  SuggestionRunDto,
  SuggestLabelsDto,
  toLabelSuggestionDto,
  toSuggestionRunDto,
} from './label-suggestions.dto.js';
import {
  RejectSuggestions,
  RejectSuggestionsDto,
  RejectSuggestionsResultDto,
} from './reject-suggestions/reject-suggestions.handler.js';
import { completedIteration, SuggestLabels } from './suggest-labels/suggest-labels.handler.js';

@ApiTags('evaluation')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/iterations/:iterationId/suggestions')
export class LabelSuggestionsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly projects: ProjectAccess,
    private readonly readStore: ReadStore,
    private readonly suggestions: LabelSuggestionQueries,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    operationId: 'suggestLabels',
    summary: 'Suggest labels (classification) or boxes (detection) for unlabeled images, in the background',
    description:
      "The completed iteration's model predicts the images off the event loop; follow the run with GET …/suggestions/runs/{id}, " +
      'then list the suggestions. Named images that are labeled, or whose suggestion from this iteration was rejected, are ' +
      'skipped (listed in `skipped`); 422 NO_IMAGES_TO_SUGGEST when none is left. 404 IMAGE_NOT_FOUND names images not in ' +
      'this project; 409 ITERATION_NOT_COMPLETED for an iteration without a model. Nothing is written on an error.',
  })
  @ApiAcceptedResponse({ type: SuggestionRunDto })
  @ApiErrors(400, 401, 404, 409, 422)
  async suggest(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Body() body: SuggestLabelsDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<SuggestionRunDto> {
    const { run, skipped } = await this.commands.execute(
      new SuggestLabels(projectId, iterationId, body.imageIds, { ...context, userId: user.id }),
    );
    return toSuggestionRunDto(run, skipped);
  }

  @Get('runs/:runId')
  @ApiOperation({
    operationId: 'getLabelSuggestionRun',
    summary: 'A suggestion run: requested, completed (with how many images got suggestions) or failed',
  })
  @ApiOkResponse({ type: SuggestionRunDto })
  @ApiErrors(400, 401, 404)
  async run(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Param('runId', UuidParam('runId')) runId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<SuggestionRunDto> {
    await this.projects.getOwned(projectId, user.id);
    return toSuggestionRunDto(await this.suggestions.run(projectId, iterationId, runId));
  }

  @Get()
  @ApiOperation({
    operationId: 'listLabelSuggestions',
    summary: "The iteration's suggestions, most probable first",
    description:
      'Pending ones by default; filter by label and by a probability range (of that label, or of the most probable suggestion).',
  })
  @ApiOkResponse({ type: LabelSuggestionPageDto })
  @ApiErrors(400, 401, 404, 409)
  async list(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() query: ListSuggestionsQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<LabelSuggestionPageDto> {
    const project = await this.projects.getOwned(projectId, user.id);
    await completedIteration(this.readStore, projectId, iterationId);
    const labelId = query.label === undefined ? undefined : resolveLabel(project.labels, query.label).id;
    const page = await this.suggestions.list(
      projectId,
      iterationId,
      {
        status: query.status ?? 'pending',
        labelId,
        minProbability: query.minProbability,
        maxProbability: query.maxProbability,
      },
      { limit: query.limit ?? 50, cursor: query.cursor },
    );
    const images = this.readStore.collection<ImageView>(IMAGES);
    const filenames = await Promise.all(
      page.items.map(async (view) => (await images.get(view.imageId))?.filename ?? null),
    );
    return {
      items: page.items.map((view, at) => toLabelSuggestionDto(view, project.labels, filenames[at])),
      nextCursor: page.nextCursor,
    };
  }

  @Post('accept')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'acceptLabelSuggestions',
    summary: 'Accept suggestions, as suggested or edited',
    description:
      'Each item becomes an ordinary labeling event (ImageLabeled or ImageRegionsSet) whose `source` names this iteration ' +
      'and whether it was edited: the most probable label, or the boxes at least `minProbability` probable, unless the ' +
      'item sends `label` / `regions`. Each item succeeds or fails on its own: 200 when all succeeded, 207 otherwise ' +
      '(SUGGESTION_NOT_FOUND, SUGGESTION_NOT_PENDING, IMAGE_ALREADY_LABELED, NOTHING_TO_ACCEPT, EDIT_DOES_NOT_FIT, UNKNOWN_LABEL, REGION_…).',
  })
  @ApiOkResponse({ type: AcceptSuggestionsResultDto })
  @ApiResponse({
    status: 207,
    type: AcceptSuggestionsResultDto,
    description: 'Some items failed; the others were accepted.',
  })
  @ApiErrors(400, 401, 404, 409)
  async accept(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Body() body: AcceptSuggestionsDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<AcceptSuggestionsResultDto> {
    const result = await this.commands.execute(
      new AcceptSuggestions(projectId, iterationId, body, { ...context, userId: user.id }),
    );
    if (result.failed > 0) response.status(207);
    return result;
  }

  @Post('reject')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'rejectLabelSuggestions',
    summary: 'Reject suggestions: this iteration will not suggest labels for these images again',
    description:
      'All or nothing: 404 SUGGESTION_NOT_FOUND or 409 SUGGESTION_NOT_PENDING (accepted or superseded) naming each image ' +
      'that has no pending suggestion from this iteration. Rejecting a rejected suggestion again changes nothing.',
  })
  @ApiOkResponse({ type: RejectSuggestionsResultDto })
  @ApiErrors(400, 401, 404, 409)
  async reject(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Body() body: RejectSuggestionsDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<RejectSuggestionsResultDto> {
    return this.commands.execute(
      new RejectSuggestions(projectId, iterationId, body.imageIds, { ...context, userId: user.id }),
    );
  }
}
