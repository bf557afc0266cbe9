import { Controller, Delete, HttpCode, Param } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { ApiIfMatch, IfMatchRevision } from '../../http/if-match.js';
import { DeleteProject } from './delete-project.handler.js';

@ApiTags('projects')
@ApiBearerAuth()
@Controller('v1/projects')
export class DeleteProjectController {
  constructor(private readonly commands: CommandBus) {}

  @Delete(':projectId')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteProject',
    summary: 'Delete a project',
    description: 'It disappears from every list and route at once; its events stay in the log for audit.',
  })
  @ApiIfMatch()
  @ApiNoContentResponse()
  @ApiErrors(400, 401, 404, 409, 412)
  async delete(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @IfMatchRevision() expectedRevision: number | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.commands.execute(new DeleteProject(projectId, expectedRevision, { ...context, userId: user.id }));
  }
}
