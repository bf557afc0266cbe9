import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import type { Response } from 'express';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { SPLITS, type Split } from '../../domain/image.events.js';
import { LabelReferencesProperty } from '../../http/label-references.dto.js';
import { IMAGE_QUOTA_DESCRIPTION } from '../../upload/image-quota.js';
import { answerIntake } from '../upload-images/upload-images.controller.js';
import { UploadItemDto } from '../upload-images/upload-images.dto.js';
import { MAX_URLS_PER_REQUEST, UploadImagesFromUrls } from './upload-images-from-urls.handler.js';

export class UploadImagesFromUrlsDto {
  @ApiProperty({ type: [String], example: ['https://example.com/cat.jpg'], maxItems: MAX_URLS_PER_REQUEST })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_URLS_PER_REQUEST)
  @IsString({ each: true })
  @MaxLength(2048, { each: true })
  urls: string[];

  @ApiPropertyOptional({ description: 'Label (name or id) for every image; classification projects only.' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label?: string;

  @LabelReferencesProperty("Multilabel: the labels (names or ids) every image gets, as an upload's `labels`.", [
    'dog',
    'outdoor',
  ])
  labels?: string[];

  @ApiPropertyOptional({ enum: SPLITS, default: 'train' })
  @IsOptional()
  @IsIn(SPLITS)
  split?: Split;
}

export class UrlUploadItemDto extends UploadItemDto {
  @ApiProperty({ example: 'https://example.com/cat.jpg' })
  url: string;
}

export class UrlUploadResultDto {
  @ApiProperty({ type: [UrlUploadItemDto], description: 'One item per URL, in the order sent.' })
  items: UrlUploadItemDto[];
}

@ApiTags('images')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/images/urls')
export class UploadImagesFromUrlsController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    operationId: 'uploadImagesFromUrls',
    summary: 'Add images fetched from http(s) URLs',
    description:
      'Each URL is fetched by the server with limits (URL_FETCH_MAX_BYTES, URL_FETCH_TIMEOUT_MS, URL_FETCH_MAX_REDIRECTS; ' +
      'declared type image/* or application/octet-stream) and then checked like an uploaded file. Loopback, private, ' +
      'link-local and reserved addresses (IPv4 and IPv6, after DNS resolution, on every redirect) are refused ' +
      '(URL_ADDRESS_NOT_ALLOWED) unless URL_FETCH_ALLOWED_ADDRESSES names them. A URL that fails is `rejected` with ' +
      'URL_INVALID, URL_ADDRESS_NOT_ALLOWED, URL_FETCH_FAILED, URL_TIMEOUT, URL_TOO_LARGE, URL_NOT_AN_IMAGE, ' +
      'URL_TOO_MANY_REDIRECTS or an upload code. 201 when none was rejected, 207 when some were, 400 when all were. ' +
      `${IMAGE_QUOTA_DESCRIPTION} Each URL counts, checked before any is fetched.`,
  })
  @ApiCreatedResponse({ type: UrlUploadResultDto })
  @ApiResponse({
    status: 207,
    type: UrlUploadResultDto,
    description: 'Some URLs were rejected; the others were taken.',
  })
  @ApiErrors(400, 401, 404, 415, 422)
  async upload(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: UploadImagesFromUrlsDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
    @Res({ passthrough: true }) response: Response,
  ): Promise<UrlUploadResultDto> {
    const items = await this.commands.execute(
      new UploadImagesFromUrls(
        projectId,
        body.urls,
        [...(body.label !== undefined ? [body.label] : []), ...(body.labels ?? [])],
        body.split,
        { ...context, userId: user.id },
      ),
    );
    return answerIntake(items, response) as UrlUploadResultDto;
  }
}
