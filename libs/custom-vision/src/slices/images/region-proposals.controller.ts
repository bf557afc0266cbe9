import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { BlobStore } from '@diyml/blobs';
import { type AuthenticatedUser, CurrentUser, isDomainError, UuidParam } from '@diyml/core';
import { RegionProposals } from '@diyml/deployments';
import { CustomVisionTrainingController, TRAINING_BASE } from '../../http/custom-vision-controller.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import { BackboneRegionProposals } from './backbone-region-proposals.js';

interface CvImageRegionProposal {
  projectId: string;
  imageId: string;
  proposals: { confidence: number; boundingBox: { left: number; top: number; width: number; height: number } }[];
}

/**
 * getImageRegionProposals: from the project's newest trained detector (RegionProposals); before any is trained,
 * from what the pretrained detection backbone finds salient (BackboneRegionProposals), as Azure proposes boxes
 * for untrained projects too.
 */
@CustomVisionTrainingController()
@Controller(`${TRAINING_BASE}/projects/:projectId/images/:imageId/regionproposals`)
export class RegionProposalsController {
  constructor(
    private readonly regions: RegionProposals,
    private readonly backbone: BackboneRegionProposals,
    private readonly reads: CustomVisionReads,
    private readonly blobs: BlobStore,
  ) {}

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
  async propose(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('imageId', UuidParam('imageId')) imageId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvImageRegionProposal> {
    let proposals;
    try {
      proposals = (await this.regions.propose(projectId, imageId, user.id)).proposals;
    } catch (error) {
      if (!isDomainError(error, 'NO_TRAINED_DETECTOR')) throw error;
      const image = await this.reads.image(projectId, imageId);
      proposals = await this.backbone.propose(await this.blobs.get(image.sha256));
    }
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
