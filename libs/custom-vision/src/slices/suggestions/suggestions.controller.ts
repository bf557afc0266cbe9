import { Body, Controller, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { negativeLabelIdOf } from '../../domain/image-prediction.js';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import { type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import {
  LabelSuggestionQueries,
  type LabelSuggestionView,
  probabilityOf,
  SuggestLabels,
  type SuggestionRunView,
} from '@diyml/evaluation';
import type { ProjectView } from '@diyml/projects';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { DEFAULT_DOMAIN } from '../../domain/domains.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE, userContext } from '../../http/custom-vision-controller.js';
import { baseUrlOf } from '../../http/query.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import {
  CvSuggestedTagAndRegionQueryTokenInputDto,
  MAX_SUGGEST_IMAGES,
  CvSuggestionsQueryDto,
  CvSuggestTagsAndRegionsQueryDto,
  CvTagFilterDto,
} from './suggestions-requests.dto.js';
import { CvSuggestedTagAndRegionDto, CvSuggestedTagAndRegionQueryResultDto } from './suggestions.dto.js';

/** SuggestTagsAndRegions answers synchronously: it waits this long for the background run. */
const SUGGEST_WAIT_MS = 120_000;
const SUGGEST_POLL_MS = 100;
const DEFAULT_MAX_COUNT = 50;

function toCvSuggestion(view: LabelSuggestionView, project: ProjectView): CvSuggestedTagAndRegionDto {
  const names = new Map(project.labels.map((label) => [label.id, label.name]));
  const negativeLabelId = negativeLabelIdOf(project);
  return {
    id: view.imageId,
    project: view.projectId,
    iteration: view.iterationId,
    created: view.suggestedAt,
    predictions: view.predictions.map(({ labelId, probability, box }) => ({
      probability,
      tagId: labelId,
      tagName: names.get(labelId) ?? '',
      ...(box ? { boundingBox: { left: box.x, top: box.y, width: box.width, height: box.height } } : {}),
      tagType: labelId === negativeLabelId ? ('Negative' as const) : ('Regular' as const),
    })),
    predictionUncertainty: view.uncertainty,
  };
}

/** Whether the suggestion has one of the tags (any tag when none is given) at least `threshold` probable. */
function matchesTags(view: LabelSuggestionView, tagIds: readonly string[], threshold: number): boolean {
  if (tagIds.length === 0) return probabilityOf(view) >= threshold;
  return tagIds.some((tagId) => view.labelIds.includes(tagId) && probabilityOf(view, tagId) >= threshold);
}

/** The position a continuation this API answered stands for. */
function continuationOffset(continuation: string): number {
  const offset = Number(continuation);
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw CustomVisionError.badRequest('BadRequest', 'continuation is not one this API returned.');
  return offset;
}

/** Suggested tags and regions (SuggestLabels and the label-suggestions read model of evaluation). */
@CustomVisionTrainingController()
@CustomVisionErrors(400)
@Controller(`${TRAINING_BASE}/projects/:projectId`)
export class SuggestionsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly reads: CustomVisionReads,
    private readonly suggestions: LabelSuggestionQueries,
  ) {}

  @Post('tagsandregions/suggestions')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_SuggestTagsAndRegions',
    summary:
      'Custom Vision: suggest tags (classification) or regions (detection) for untagged images (?iterationId=&imageIds=, at most 64)',
    description:
      'Runs as a background suggestion run and answers once it finished. Tagged images, and images whose suggestion from ' +
      'this iteration was rejected, get none.',
  })
  @ApiOkResponse({ type: [CvSuggestedTagAndRegionDto] })
  async suggest(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvSuggestTagsAndRegionsQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<CvSuggestedTagAndRegionDto[]> {
    const project = await this.reads.project(projectId, user.id);
    const { iterationId, imageIds } = query;
    if (imageIds.length === 0) {
      throw CustomVisionError.badRequest(
        'BadRequestImageBatch',
        `imageIds must name 1 to ${MAX_SUGGEST_IMAGES} images.`,
      );
    }
    const { run } = await this.commands.execute(
      new SuggestLabels(projectId, iterationId, imageIds, userContext(context, user)),
    );
    const finished = await this.finished(run);
    if (finished.status === 'failed') {
      throw new CustomVisionError(
        500,
        'ErrorUnknown',
        `Suggesting tags failed: ${finished.error?.reason ?? 'unknown reason'}.`,
      );
    }
    const found = await Promise.all(finished.imageIds.map((imageId) => this.suggestions.get(iterationId, imageId)));
    return found
      .filter((view): view is LabelSuggestionView => view?.runId === run.id)
      .map((view) => toCvSuggestion(view, project));
  }

  @Post('images/suggested')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_QuerySuggestedImages',
    summary:
      'Custom Vision: untagged images with pending suggestions of an iteration, filtered by tags and threshold (?iterationId=)',
    description:
      'Body: {tagIds, threshold, maxCount (≤ 256), sortBy UncertaintyAscending|UncertaintyDescending, continuation from the previous token}.',
  })
  @ApiOkResponse({ type: CvSuggestedTagAndRegionQueryResultDto })
  async query(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() { iterationId }: CvSuggestionsQueryDto,
    @Body() body: CvSuggestedTagAndRegionQueryTokenInputDto,
    @Req() request: Request,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvSuggestedTagAndRegionQueryResultDto> {
    const project = await this.reads.project(projectId, user.id);
    await this.reads.iteration(projectId, iterationId);
    const tagIds = body.tagIds ?? [];
    const threshold = body.threshold ?? 0;
    const maxCount = body.maxCount ?? DEFAULT_MAX_COUNT;
    const sortBy = body.sortBy ?? 'UncertaintyDescending';
    const offset = body.continuation ? continuationOffset(body.continuation) : 0;

    const direction = sortBy === 'UncertaintyAscending' ? 1 : -1;
    const matching = (await this.suggestions.findAll(projectId, iterationId, { status: 'pending' }))
      .filter((view) => matchesTags(view, tagIds, threshold))
      .sort((a, b) => direction * (a.uncertainty - b.uncertainty) || a.imageId.localeCompare(b.imageId));
    const page = matching.slice(offset, offset + maxCount);
    const domain = DEFAULT_DOMAIN[project.type].id;
    const baseUrl = baseUrlOf(request);
    const results = await Promise.all(
      page.map(async (view) => {
        const image = await this.reads.image(projectId, view.imageId);
        const uri = `${baseUrl}/v1/projects/${projectId}/images/${image.id}/content`;
        return {
          ...toCvSuggestion(view, project),
          width: image.width,
          height: image.height,
          resizedImageUri: uri,
          thumbnailUri: uri,
          originalImageUri: uri,
          domain,
        };
      }),
    );
    const next = offset + page.length;
    return {
      token: {
        tagIds,
        threshold,
        session: body.session ?? '',
        continuation: next < matching.length ? String(next) : null,
        maxCount,
        sortBy,
      },
      results,
    };
  }

  @Post('images/suggested/count')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_QuerySuggestedImageCount',
    summary:
      'Custom Vision: per tag, how many images have a pending suggestion of it at least `threshold` probable (?iterationId=)',
    description: 'Body: {tagIds (default: every tag of the project), threshold}. Answers {tagId: count}.',
  })
  @ApiOkResponse({
    description: 'Per tag id, the number of images.',
    schema: { type: 'object', additionalProperties: { type: 'integer' }, example: { '5d2c0f6e-…': 12 } },
  })
  async count(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() { iterationId }: CvSuggestionsQueryDto,
    @Body() filter: CvTagFilterDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<Record<string, number>> {
    const project = await this.reads.project(projectId, user.id);
    await this.reads.iteration(projectId, iterationId);
    const threshold = filter.threshold ?? 0;
    const tagIds = filter.tagIds?.length ? filter.tagIds : project.labels.map((label) => label.id);
    const pending = await this.suggestions.findAll(projectId, iterationId, { status: 'pending' });
    return Object.fromEntries(
      tagIds.map((tagId) => [tagId, pending.filter((view) => matchesTags(view, [tagId], threshold)).length]),
    );
  }

  /** Polls the run until it completed or failed, up to SUGGEST_WAIT_MS. */
  private async finished(run: SuggestionRunView): Promise<SuggestionRunView> {
    const deadline = Date.now() + SUGGEST_WAIT_MS;
    let current = run;
    while (current.status === 'requested') {
      if (Date.now() > deadline) {
        throw new CustomVisionError(
          503,
          'ErrorServiceUnavailable',
          `The suggestion run ${run.id} is still running: query suggested images later.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, SUGGEST_POLL_MS));
      current = await this.suggestions.run(run.projectId, run.iterationId, run.id);
    }
    return current;
  }
}
