import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, CurrentUser, DEFAULT_PAGE_SIZE, UuidParam } from '@diyml/core';
import { ReadStore } from '@diyml/read-store';
import { ProjectAccess } from '../../project-access.js';
import { namesAsOfEntries } from '../../read-models/project-history/history-names.js';
import { findProjectHistory } from '../../read-models/project-history/project-history.query.js';
import { HistoryPageDto, ProjectHistoryQueryDto } from './get-project-history.dto.js';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/history')
export class GetProjectHistoryController {
  constructor(
    private readonly access: ProjectAccess,
    private readonly readStore: ReadStore,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'getProjectHistory',
    summary: 'Everything that happened to a project, from every context, in log order',
    description: 'Project, label, training-configuration, image, iteration … events whose data names the project.',
  })
  @ApiOkResponse({ type: HistoryPageDto })
  @ApiErrors(400, 401, 404)
  async history(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: ProjectHistoryQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<HistoryPageDto> {
    await this.access.getOwned(projectId, user.id);
    const page = await findProjectHistory(this.readStore, {
      projectId,
      after: query.after,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      types: query.type,
      from: query.from === undefined ? undefined : new Date(query.from),
      to: query.to === undefined ? undefined : new Date(query.to),
      userId: query.user === undefined ? undefined : query.user === 'system' ? null : query.user.toLowerCase(),
    });
    const names = await namesAsOfEntries(this.readStore, projectId, page.items);
    return {
      items: page.items.map(({ position, stream, type, v, data, metadata }, index) => ({
        position,
        stream,
        type,
        v,
        data,
        metadata,
        names: names[index],
      })),
      nextCursor: page.nextCursor,
    };
  }
}
