import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { type AuthenticatedUser, CurrentUser, UuidParam } from '@diyml/core';
import { RegionProposals } from '@diyml/deployments';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE } from '../../http/custom-vision-controller.js';
import { CvImageRegionProposalDto } from './images.dto.js';

/**
 * getImageRegionProposals: the native region proposals (RegionProposals): from the project's newest trained
 * detector or, before any is trained, from what the pretrained detection backbone finds salient, as Azure proposes
 * boxes for untrained projects too.
 */
@CustomVisionTrainingController()
@CustomVisionErrors(400)
@Controller(`${TRAINING_BASE}/projects/:projectId/images/:imageId/regionproposals`)
export class RegionProposalsController {
  constructor(private readonly regions: RegionProposals) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_GetImageRegionProposals',
    summary:
      "Custom Vision: region proposals for an image, from the project's newest trained detector or, before one, the pretrained backbone",
    description:
      'With a trained detector: its boxes above probability 0.05, overlapping ones merged whatever their tag. Before: boxes around the regions the ' +
      'pretrained backbone (MobileNetV2) finds salient, confidence being their mean saliency (0 to 1). At most 50, most confident first.',
  })
  @ApiOkResponse({ type: CvImageRegionProposalDto })
  async propose(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('imageId', UuidParam('imageId')) imageId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvImageRegionProposalDto> {
    const { proposals } = await this.regions.propose(projectId, imageId, user.id);
    return {
      projectId,
      imageId,
      proposals: proposals.map(({ confidence, box }) => ({
        confidence,
        boundingBox: { left: box.x, top: box.y, width: box.width, height: box.height },
      })),
    };
  }
}
