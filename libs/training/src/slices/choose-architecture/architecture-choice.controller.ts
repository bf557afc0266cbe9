import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, CurrentUser, UuidParam } from '@diyml/core';
import { DatasetQueries } from '@diyml/datasets';
import { chooseArchitecture } from '@diyml/ml';
import { ProjectAccess } from '@diyml/projects';
import { ArchitectureChoiceDto } from './architecture-choice.dto.js';

@ApiTags('training')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/architecture-choice')
export class ArchitectureChoiceController {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly datasets: DatasetQueries,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'getArchitectureChoice',
    summary: "What the 'auto' architecture would train now",
    description:
      "The architecture a run with architecture 'auto' would train if queued now, from the project's included images " +
      '(a pretrained backbone for photos, a small model from scratch for small images), and why. A run makes the ' +
      'choice again when it is queued, and its iteration records it.',
  })
  @ApiOkResponse({ type: ArchitectureChoiceDto })
  @ApiErrors(400, 401, 404)
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<ArchitectureChoiceDto> {
    const project = await this.projects.getOwned(projectId, user.id);
    const included = (await this.datasets.listAll(projectId)).filter((image) => image.included);
    const { id, reason } = chooseArchitecture(project.type, included);
    return { architecture: id, reason, imageCount: included.length };
  }
}
