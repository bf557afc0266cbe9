import { Controller, Get, Param } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { type CustomVisionDomain, DOMAINS, findDomain } from '../../domain/domains.js';
import { CustomVisionTrainingController, TRAINING_BASE } from '../../http/custom-vision-controller.js';
import { optionalUuid } from '../../http/query.js';

@CustomVisionTrainingController()
@Controller(TRAINING_BASE)
export class DomainsController {
  @Get('domains')
  @ApiOperation({
    operationId: 'CustomVision_GetDomains',
    summary: 'Custom Vision: the domains (General and General compact, classification and object detection)',
  })
  list(): readonly CustomVisionDomain[] {
    return DOMAINS;
  }

  @Get('domains/:domainId')
  @ApiOperation({ operationId: 'CustomVision_GetDomain', summary: 'Custom Vision: one domain' })
  get(@Param('domainId') domainId: string): CustomVisionDomain {
    return findDomain(optionalUuid(domainId, 'domainId') ?? '');
  }
}
