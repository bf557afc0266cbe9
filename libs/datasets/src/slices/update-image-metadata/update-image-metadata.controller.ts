import { Body, Controller, Param, Put, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsObject } from 'class-validator';
import type { Response } from 'express';
import {
  ApiErrors,
  type AuthenticatedUser,
  Ctx,
  CurrentUser,
  type RequestContext,
  setEtag,
  UuidParam,
} from '@diyml/core';
import {
  MAX_METADATA_ENTRIES,
  MAX_METADATA_KEY_LENGTH,
  MAX_METADATA_VALUE_LENGTH,
} from '../../domain/image-metadata.js';
import { ApiIfMatch, ETAG_HEADER, ImageDto, IfMatchRevision } from '../../http/image.dto.js';
import { UpdateImageMetadata } from './update-image-metadata.handler.js';

export class ImageMetadataDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', maxLength: MAX_METADATA_VALUE_LENGTH },
    maxProperties: MAX_METADATA_ENTRIES,
    example: { camera: 'north-gate', shift: 'night' },
    description: `The image's whole metadata: at most ${MAX_METADATA_ENTRIES} entries, keys of 1 to ${MAX_METADATA_KEY_LENGTH} characters without "=", string values of at most ${MAX_METADATA_VALUE_LENGTH}. {} clears it.`,
  })
  @IsObject()
  metadata: Record<string, string>;
}

@ApiTags('images')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/images/:imageId/metadata')
export class UpdateImageMetadataController {
  constructor(private readonly commands: CommandBus) {}

  @Put()
  @ApiOperation({
    operationId: 'setImageMetadata',
    summary: "Replace an image's key/value metadata (filter listings with ?metadata=key=value)",
    description:
      '400 METADATA_TOO_MANY_ENTRIES, METADATA_KEY_INVALID or METADATA_VALUE_INVALID name the entry to fix; nothing is changed then.',
  })
  @ApiIfMatch()
  @ApiOkResponse({ type: ImageDto, headers: ETAG_HEADER })
  @ApiErrors(400, 401, 404, 409, 412)
  async replace(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('imageId', UuidParam('imageId')) imageId: string,
    @Body() body: ImageMetadataDto,
    @IfMatchRevision() expectedRevision: number | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ImageDto> {
    const result = await this.commands.execute(
      new UpdateImageMetadata(projectId, imageId, body.metadata, 'replace', expectedRevision, {
        ...context,
        userId: user.id,
      }),
    );
    setEtag(response, result.revision);
    return result.image;
  }
}
