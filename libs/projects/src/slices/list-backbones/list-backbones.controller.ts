import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '@diyml/core';
import { DEFAULT_BACKBONE_ID } from '@diyml/ml';
import { BackboneCatalog } from '../../backbones/backbone-catalog.js';
import { BackboneDto } from './backbone.dto.js';

@ApiTags('training configuration')
@ApiBearerAuth()
@Controller('v1/backbones')
export class ListBackbonesController {
  constructor(private readonly catalog: BackboneCatalog) {}

  @Get()
  @ApiOperation({
    operationId: 'listBackbones',
    summary: 'The pretrained backbones models can be trained on (trainingConfig.backbone)',
    description:
      'Built-in backbones ship inside npm packages (offline after npm install); more can be added by URL in BACKBONES_FILE.',
  })
  @ApiOkResponse({ type: [BackboneDto] })
  @ApiErrors(401)
  list(): BackboneDto[] {
    return this.catalog
      .list()
      .map(({ id, description, licence, inputSize, inputRange, featureLayers, embeddingLayer, source }) => ({
        id,
        description,
        licence,
        inputSize,
        inputRange,
        featureLayers,
        embeddingLayer,
        source:
          source.kind === 'npm-package'
            ? { kind: source.kind, package: source.package }
            : source.kind === 'url'
              ? { kind: source.kind, url: source.url }
              : { kind: source.kind },
        isDefault: id === DEFAULT_BACKBONE_ID,
      }));
  }
}
