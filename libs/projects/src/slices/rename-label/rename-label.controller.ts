import { Body, Controller, Param, Patch, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
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
import { LabelNameDto } from '../add-label/add-label.dto.js';
import { RenameLabel } from './rename-label.handler.js';

@ApiTags('labels')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/labels')
export class RenameLabelController {
  constructor(private readonly commands: CommandBus) {}

  @Patch(':labelId')
  @ApiOperation({
    operationId: 'renameLabel',
    summary: 'Rename a label; images labeled with it keep it',
    description: 'Renaming to the same name changes nothing.',
  })
  @ApiIfMatch()
  @ApiOkResponse({ type: ProjectLabelDto, headers: ETAG_HEADER })
  @ApiErrors(400, 401, 404, 409, 412)
  async rename(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('labelId', UuidParam('labelId')) labelId: string,
    @Body() body: LabelNameDto,
    @IfMatchRevision() expectedRevision: number | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ProjectLabelDto> {
    const { label, revision } = await this.commands.execute(
      new RenameLabel(projectId, labelId, body.name, expectedRevision, { ...context, userId: user.id }),
    );
    setEtag(response, revision);
    return label;
  }
}
