import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, CurrentUser, DEFAULT_PAGE_SIZE, PageQueryDto } from '@diyml/core';
import { ReadStore } from '@diyml/read-store';
import { ProjectListDto, toProjectDto } from '../../http/project.dto.js';
import { PROJECTS, type ProjectView } from '../../read-models/projects/project.view.js';

@ApiTags('projects')
@ApiBearerAuth()
@Controller('v1/projects')
export class ListProjectsController {
  constructor(private readonly readStore: ReadStore) {}

  @Get()
  @ApiOperation({ operationId: 'listProjects', summary: 'Your projects, oldest first, a page at a time' })
  @ApiOkResponse({ type: ProjectListDto })
  @ApiErrors(400, 401)
  async list(@Query() query: PageQueryDto, @CurrentUser() user: AuthenticatedUser): Promise<ProjectListDto> {
    const page = await this.readStore.collection<ProjectView>(PROJECTS).find({
      where: { ownerId: user.id },
      orderBy: 'createdAt',
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      cursor: query.cursor,
    });
    return { items: page.items.map(toProjectDto), nextCursor: page.nextCursor };
  }
}
