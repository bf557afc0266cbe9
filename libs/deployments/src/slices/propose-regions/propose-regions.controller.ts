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
  @ApiProperty({ example: 0.83, description: 'How sure the detector is that an object (of any label) is in the box.' })
  confidence: number;
  @ApiProperty({ type: ProposalBoxDto, description: 'Fractions of the image, origin top-left.' }) box: ProposalBoxDto;
}

export class RegionProposalsDto {
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ format: 'uuid' }) imageId: string;
  @ApiProperty({ format: 'uuid', description: 'The detector iteration that proposed the boxes.' }) iterationId: string;
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
    summary: "Candidate boxes for an image, from the project's trained detector (to speed up labelling)",
    description:
      '409 NO_TRAINED_DETECTOR before any detector iteration completed; 400 WRONG_PROJECT_TYPE for a classification project.',
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
