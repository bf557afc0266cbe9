import { Body, Controller, Param, Patch } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { MAX_ITERATION_NAME_LENGTH } from '../../domain/iteration.events.js';
import { IterationDto, toIterationDto } from '../read-iterations/iteration.dto.js';
import { RenameIteration } from './update-iteration.handler.js';

export class UpdateIterationDto {
  @ApiProperty({
    example: 'Baseline',
    maxLength: MAX_ITERATION_NAME_LENGTH,
    description: 'New name, unique in the project.',
  })
  // Length is the decider's rule (ITERATION_NAME_INVALID), checked on the trimmed name.
  @IsString()
  name: string;
}

@ApiTags('training')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/iterations/:iterationId')
export class UpdateIterationController {
  constructor(private readonly commands: CommandBus) {}

  @Patch()
  @ApiOperation({
    operationId: 'renameIteration',
    summary: 'Rename an iteration',
    description:
      '400 ITERATION_NAME_INVALID for an empty name or one over 100 characters; 409 ITERATION_NAME_TAKEN when another iteration has it.',
  })
  @ApiOkResponse({ type: IterationDto })
  @ApiErrors(400, 401, 404, 409)
  async rename(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Body() body: UpdateIterationDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<IterationDto> {
    return toIterationDto(
      await this.commands.execute(
        new RenameIteration(projectId, iterationId, body.name, { ...context, userId: user.id }),
      ),
    );
  }
}
