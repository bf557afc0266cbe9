import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { UuidParam } from '@diyml/core';
import { type CustomVisionDomain, DOMAINS, findDomain } from '../../domain/domains.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE } from '../../http/custom-vision-controller.js';
import { CvDomainDto } from './domains.dto.js';

@CustomVisionTrainingController()
@Controller(TRAINING_BASE)
export class DomainsController {
  @Get('domains')
  @ApiOperation({
    operationId: 'CustomVision_GetDomains',
    summary: 'Custom Vision: the domains (General and General compact, classification and object detection)',
  })
  @ApiOkResponse({ type: [CvDomainDto] })
  list(): readonly CustomVisionDomain[] {
    return DOMAINS;
  }

  @Get('domains/:domainId')
  @ApiOperation({ operationId: 'CustomVision_GetDomain', summary: 'Custom Vision: one domain' })
  @ApiOkResponse({ type: CvDomainDto })
  @CustomVisionErrors(400)
  get(@Param('domainId', UuidParam('domainId')) domainId: string): CustomVisionDomain {
    return findDomain(domainId);
  }
}
