import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { ApiErrors, type AuthenticatedUser, CurrentUser, UuidParam } from '@diyml/core';
import { RegionProposals } from './region-proposals.js';

export class RegionProposalsQueryDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: "The detector iteration to use; default the project's newest trained one.",
  })
  @IsOptional()
  @IsUUID()
  iterationId?: string;
}

class ProposalBoxDto {
  @ApiProperty({ example: 0.1 }) x: number;
  @ApiProperty({ example: 0.2 }) y: number;
  @ApiProperty({ example: 0.3 }) width: number;
  @ApiProperty({ example: 0.25 }) height: number;
}

class RegionProposalDto {
  @ApiProperty({
    example: 0.83,
    description:
      "How sure the detector is that an object (of any label) is in the box; from the backbone, the region's mean saliency (0 to 1).",
  })
  confidence: number;
  @ApiProperty({ type: ProposalBoxDto, description: 'Fractions of the image, origin top-left.' }) box: ProposalBoxDto;
}

export class RegionProposalsDto {
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ format: 'uuid' }) imageId: string;
  @ApiProperty({
    enum: ['detector', 'backbone'],
    description:
      "'detector': the project's trained detector proposed the boxes; 'backbone': no detector is trained yet, the pretrained backbone's saliency did.",
  })
  source: 'detector' | 'backbone';
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'The detector iteration that proposed the boxes; null when they come from the backbone.',
  })
  iterationId: string | null;
  @ApiProperty({
    type: [RegionProposalDto],
    description: 'Best first, at most 50, overlapping boxes merged whatever their label.',
  })
  proposals: RegionProposalDto[];
}

@ApiTags('images')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/images/:imageId/region-proposals')
export class ProposeRegionsController {
  constructor(private readonly proposals: RegionProposals) {}

  @Get()
  @ApiOperation({
    operationId: 'proposeImageRegions',
    summary:
      "Candidate boxes for an image, from the project's trained detector or, before one, the pretrained backbone (to speed up labelling)",
    description:
      "With a trained detector (the newest, or `iterationId`): its boxes above probability 0.05, overlapping ones merged whatever their label. Before any detector is trained: boxes around the regions the pretrained backbone (MobileNetV2) finds salient (`source: 'backbone'`). " +
      '400 WRONG_PROJECT_TYPE for a classification project; 409 ITERATION_NOT_COMPLETED when `iterationId` names an unfinished iteration.',
  })
  @ApiOkResponse({ type: RegionProposalsDto })
  @ApiErrors(400, 401, 404, 409)
  propose(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('imageId', UuidParam('imageId')) imageId: string,
    @Query() query: RegionProposalsQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<RegionProposalsDto> {
    return this.proposals.propose(projectId, imageId, user.id, query.iterationId);
  }
}
