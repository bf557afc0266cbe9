import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, CurrentUser, UuidParam } from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { EMBEDDING_TABLES, type EmbeddingTableView } from '../../read-models/embedding-tables/embedding-table.view.js';
import { EmbeddingCacheDto, toEmbeddingTableDto } from './embedding-cache.dto.js';

@ApiTags('training')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/embeddings')
export class EmbeddingCacheController {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly readStore: ReadStore,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'getEmbeddingTables',
    summary: 'Backbone embeddings computed in the background',
    description:
      'After uploads to a project that trains on a pretrained backbone, its images are embedded in the background; iterations reuse these instead of computing them.',
  })
  @ApiOkResponse({ type: EmbeddingCacheDto })
  @ApiErrors(400, 401, 404)
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<EmbeddingCacheDto> {
    await this.projects.getOwned(projectId, user.id);
    const tables = await this.readStore.collection<EmbeddingTableView>(EMBEDDING_TABLES).findAll({ projectId });
    return { items: tables.map(toEmbeddingTableDto) };
  }
}
