import { Controller, Delete, HttpCode, Param } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { DeleteIteration } from './delete-iteration.handler.js';

@ApiTags('training')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/iterations/:iterationId')
export class DeleteIterationController {
  constructor(private readonly commands: CommandBus) {}

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteIteration',
    summary: 'Delete an iteration (it leaves the lists and deployment choices; its history stays in the log)',
    description:
      '409 ITERATION_DEPLOYED while a deployment serves it (undeploy first, as Azure refuses to delete a published iteration); ' +
      '409 ITERATION_TRAINING while queued or running (cancel first).',
  })
  @ApiNoContentResponse()
  @ApiErrors(400, 401, 404, 409)
  async delete(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.commands.execute(new DeleteIteration(projectId, iterationId, { ...context, userId: user.id }));
  }
}
