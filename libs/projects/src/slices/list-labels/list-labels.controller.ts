import { createHash } from 'node:crypto';
import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors, type AuthenticatedUser, CurrentUser, UuidParam } from '@diyml/core';
import { ReadStore } from '@diyml/read-store';
import { ProjectLabelDto, toProjectLabelDto } from '../../http/project.dto.js';
import { ProjectAccess } from '../../project-access.js';
import { LABEL_STATS, type LabelStatsView } from '../../read-models/label-stats/label-stats.view.js';

export class LabelWithCountDto extends ProjectLabelDto {
  @ApiProperty({
    example: 12,
    description: 'Images of the project labeled with it (in detection: with a region of it).',
  })
  imageCount: number;
}

export class LabelListDto {
  @ApiProperty({ type: [LabelWithCountDto], description: 'In the order they were added.' })
  items: LabelWithCountDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Always null: a project has few enough labels for one page.',
  })
  nextCursor: null;
}

const LABEL_LIST_ETAG_HEADER = {
  ETag: {
    description:
      'Names this list as sent, image counts included (they change without a new project revision), for If-None-Match. ' +
      "To guard a label write with If-Match, use the project's ETag (GET /v1/projects/{projectId}).",
    schema: { type: 'string' },
  },
};

/** A weak ETag of the list's content: image counts move without the project's revision, so that cannot name it. */
function etagOfContent(list: LabelListDto): string {
  return `W/"labels-${createHash('sha256').update(JSON.stringify(list)).digest('base64url').slice(0, 22)}"`;
}

@ApiTags('labels')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/labels')
export class ListLabelsController {
  constructor(
    private readonly access: ProjectAccess,
    private readonly readStore: ReadStore,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'listLabels', summary: "A project's labels with how many images each has" })
  @ApiOkResponse({ type: LabelListDto, headers: LABEL_LIST_ETAG_HEADER })
  @ApiErrors(400, 401, 404)
  async list(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<LabelListDto> {
    const project = await this.access.getOwned(projectId, user.id);
    const stats = await this.readStore.collection<LabelStatsView>(LABEL_STATS).findAll({ projectId });
    const counts = new Map(stats.map((entry) => [entry.id, entry.imageCount]));
    const list: LabelListDto = {
      items: project.labels.map((label) => ({
        ...toProjectLabelDto(label),
        imageCount: counts.get(label.id) ?? 0,
      })),
      nextCursor: null,
    };
    response.setHeader('ETag', etagOfContent(list));
    return list;
  }
}
