import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  ApiErrors,
  type AuthenticatedUser,
  Ctx,
  CurrentUser,
  type RequestContext,
  setEtag,
  UuidParam,
} from '@diyml/core';
import { ApiIfMatch, ETAG_HEADER, IfMatchRevision } from '../../http/if-match.js';
import { ProjectLabelDto } from '../../http/project.dto.js';
import { AddLabelDto } from './add-label.dto.js';
import { AddLabel } from './add-label.handler.js';

@ApiTags('labels')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/labels')
export class AddLabelController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ operationId: 'addLabel', summary: 'Add a label (class) to a project' })
  @ApiIfMatch()
  @ApiCreatedResponse({ type: ProjectLabelDto, headers: ETAG_HEADER })
  @ApiErrors(400, 401, 404, 409, 412, 422)
  async add(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: AddLabelDto,
    @IfMatchRevision() expectedRevision: number | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ProjectLabelDto> {
    const { label, revision } = await this.commands.execute(
      new AddLabel(projectId, body.name, expectedRevision, { ...context, userId: user.id }, body.negative ?? false),
    );
    setEtag(response, revision);
    return label;
  }
}
