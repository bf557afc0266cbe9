import { Controller, Delete, HttpCode, Param, Put, Res } from '@nestjs/common';
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
import { SetLabelNegative } from './set-label-negative.handler.js';

const NEGATIVE_RULES =
  'A project has at most one negative label (409 NEGATIVE_LABEL_EXISTS), detection projects none ' +
  '(400 NEGATIVE_LABEL_NOT_FOR_DETECTION), and an image carries it alone: a label on images together with other ' +
  'labels cannot become negative (409 NEGATIVE_AND_REGULAR_LABEL, naming the images). Training learns its images ' +
  'as images of no label.';

@ApiTags('labels')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/labels/:labelId/negative')
export class SetLabelNegativeController {
  constructor(private readonly commands: CommandBus) {}

  @Put()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'markLabelNegative',
    summary: 'Make a label the negative label: its images show none of the other labels',
    description: `Marking the negative label again changes nothing. ${NEGATIVE_RULES}`,
  })
  @ApiIfMatch()
  @ApiOkResponse({ type: ProjectLabelDto, headers: ETAG_HEADER })
  @ApiErrors(400, 401, 404, 409, 412)
  async mark(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('labelId', UuidParam('labelId')) labelId: string,
    @IfMatchRevision() expectedRevision: number | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ProjectLabelDto> {
    return this.set(projectId, labelId, true, expectedRevision, user, context, response);
  }

  @Delete()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'unmarkLabelNegative',
    summary: 'Make the negative label a regular label again',
    description: 'A regular label stays as it is. Its images keep it.',
  })
  @ApiIfMatch()
  @ApiOkResponse({ type: ProjectLabelDto, headers: ETAG_HEADER })
  @ApiErrors(400, 401, 404, 409, 412)
  async unmark(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('labelId', UuidParam('labelId')) labelId: string,
    @IfMatchRevision() expectedRevision: number | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ProjectLabelDto> {
    return this.set(projectId, labelId, false, expectedRevision, user, context, response);
  }

  private async set(
    projectId: string,
    labelId: string,
    negative: boolean,
    expectedRevision: number | undefined,
    user: AuthenticatedUser,
    context: RequestContext,
    response: Response,
  ): Promise<ProjectLabelDto> {
    const { label, revision } = await this.commands.execute(
      new SetLabelNegative(projectId, labelId, negative, expectedRevision, { ...context, userId: user.id }),
    );
    setEtag(response, revision);
    return label;
  }
}
