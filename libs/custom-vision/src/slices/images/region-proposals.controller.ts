import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { type AuthenticatedUser, CurrentUser, UuidParam } from '../../../../core/src/index.js';
import { RegionProposals } from '../../../../deployments/src/index.js';
import { CustomVisionTrainingController, TRAINING_BASE } from '../../http/custom-vision-controller.js';

interface CvImageRegionProposal {
  projectId: string;
  imageId: string;
  proposals: { confidence: number; boundingBox: { left: number; top: number; width: number; height: number } }[];
}

/** getImageRegionProposals, from the project's newest trained detector (RegionProposals). */
@CustomVisionTrainingController()
@Controller(`${TRAINING_BASE}/projects/:projectId/images/:imageId/regionproposals`)
export class RegionProposalsController {
  constructor(private readonly regions: RegionProposals) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_GetImageRegionProposals',
    summary: "Custom Vision: region proposals for an image, from the project's newest trained detector",
    description: 'Azure proposes boxes before any training; diyml needs a trained detector (NotFoundProjectDefaultIteration before).',
  })
  async propose(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('imageId', UuidParam('imageId')) imageId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvImageRegionProposal> {
    const result = await this.regions.propose(projectId, imageId, user.id);
    return {
      projectId,
      imageId,
      proposals: result.proposals.map(({ confidence, box }) => ({ confidence, boundingBox: { left: box.x, top: box.y, width: box.width, height: box.height } })),
    };
  }
}
