import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, CurrentUser, DEFAULT_PAGE_SIZE, DomainError, UuidParam } from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import { decodeCursor, encodeCursor } from '@diyml/read-store';
import { ImagePerformanceQueries } from './image-performance-queries.js';
import {
  ImagePerformanceCountDto,
  ImagePerformanceFilterDto,
  ImagePerformancePageDto,
  ImagePerformanceQueryDto,
} from './image-performances.dto.js';

const ERRORS_DESCRIPTION =
  '409 ITERATION_NOT_COMPLETED (not trained yet), NO_VALIDATION_DATA (no validation images) or IMAGE_PERFORMANCES_NOT_RECORDED ' +
  '(trained before per-image results were kept); 400 UNKNOWN_LABEL for a label the iteration does not have.';

@ApiTags('training')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/iterations/:iterationId/image-performances')
export class ImagePerformancesController {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly performances: ImagePerformanceQueries,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'listImagePerformances',
    summary:
      'How the iteration did on each validation image: expected and predicted labels (boxes for detection) with probabilities',
    description: `Filter by expected label and predicted label to list one cell of the confusion matrix. ${ERRORS_DESCRIPTION}`,
  })
  @ApiOkResponse({ type: ImagePerformancePageDto })
  @ApiErrors(400, 401, 404, 409)
  async list(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() query: ImagePerformanceQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<ImagePerformancePageDto> {
    await this.projects.getOwned(projectId, user.id);
    const all = await this.performances.find(projectId, iterationId, filterOf(query));
    const start = query.cursor === undefined ? 0 : startAfter(all, query.cursor);
    const items = all.slice(start, start + (query.limit ?? DEFAULT_PAGE_SIZE));
    const last = items.at(-1);
    const nextCursor =
      last && start + items.length < all.length ? encodeCursor(start + items.length - 1, last.imageId) : null;
    return { items, nextCursor };
  }

  @Get('count')
  @ApiOperation({
    operationId: 'countImagePerformances',
    summary: 'How many validation images match the filter',
    description: ERRORS_DESCRIPTION,
  })
  @ApiOkResponse({ type: ImagePerformanceCountDto })
  @ApiErrors(400, 401, 404, 409)
  async count(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() query: ImagePerformanceFilterDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<ImagePerformanceCountDto> {
    await this.projects.getOwned(projectId, user.id);
    return { count: (await this.performances.find(projectId, iterationId, filterOf(query))).length };
  }
}

function filterOf(query: ImagePerformanceFilterDto) {
  return {
    labels: query.label === undefined ? undefined : [query.label],
    predicted: query.predicted,
    threshold: query.threshold,
  };
}

/** The position after the cursor's image; a cursor from another filter names an image that is not there. */
function startAfter(all: readonly { imageId: string }[], cursor: string): number {
  const [position, imageId] = decodeCursor(cursor);
  if (typeof position !== 'number' || all[position]?.imageId !== imageId) {
    throw DomainError.validation(
      'INVALID_CURSOR',
      'cursor is not one this list returned with these filters: use nextCursor from the previous page.',
    );
  }
  return position + 1;
}
