import { Controller, Delete, HttpCode, Param, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
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
import { RemoveLabel } from './remove-label.handler.js';

@ApiTags('labels')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/labels')
export class RemoveLabelController {
  constructor(private readonly commands: CommandBus) {}

  @Delete(':labelId')
  @HttpCode(204)
  @ApiOperation({ operationId: 'removeLabel', summary: 'Remove a label from a project' })
  @ApiIfMatch()
  @ApiNoContentResponse({ headers: ETAG_HEADER })
  @ApiErrors(400, 401, 404, 409, 412)
  async remove(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('labelId', UuidParam('labelId')) labelId: string,
    @IfMatchRevision() expectedRevision: number | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const { revision } = await this.commands.execute(
      new RemoveLabel(projectId, labelId, expectedRevision, { ...context, userId: user.id }),
    );
    setEtag(response, revision);
  }
}
