import { Body, Controller, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  type AuthenticatedUser,
  Ctx,
  CurrentUser,
  type RequestContext,
  requireFileName,
  UrlFetcher,
  UuidParam,
} from '@diyml/core';
import { UploadLimits, validateMetadata } from '@diyml/datasets';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE, userContext } from '../../http/custom-vision-controller.js';
import { IMAGE_DATA_REQUEST_BODY, MAX_IMAGES_PER_BATCH, readImages } from '../../http/image-data.js';
import { baseUrlOf } from '../../http/query.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import { ImageBatch, type ImageCreateSummary, type ImageEntry } from './image-batch.js';
import {
  CvCreateImagesFromDataQueryDto,
  CvImageFileCreateBatchDto,
  CvImageUrlCreateBatchDto,
} from './image-requests.dto.js';
import { CvImageCreateSummaryDto } from './images.dto.js';

/** The image quotas, as these routes answer them. */
const CV_QUOTA_DESCRIPTION =
  'A batch that would take the project past MAX_IMAGES_PER_PROJECT images or the user past MAX_IMAGES_PER_USER takes ' +
  'nothing: 400 BadRequestExceededQuota, whose message says how many images can still be added.';

function answer(summary: ImageCreateSummary, response: Response): ImageCreateSummary {
  response.status(summary.isBatchSuccessful ? 200 : 207);
  return summary;
}

function tooMany(count: number): CustomVisionError {
  return CustomVisionError.badRequest(
    'BadRequestImageBatch',
    `${count} images in one batch: at most ${MAX_IMAGES_PER_BATCH}.`,
  );
}

/** The batch-wide tags and metadata of a JSON image batch, merged into each image's; metadata checked first. */
export function batchOf(body: { tagIds?: string[]; metadata?: Record<string, string> | null }): {
  batchTags: string[];
  metadata: Record<string, string>;
} {
  return {
    batchTags: body.tagIds ?? [],
    metadata: body.metadata === undefined || body.metadata === null ? {} : validateMetadata(body.metadata),
  };
}

/** An image's own tags and the batch's, each once. */
export function tagsOf(image: { tagIds?: string[] }, batchTags: readonly string[]): string[] {
  return [...new Set([...batchTags, ...(image.tagIds ?? [])])];
}

/** The route whose JSON body carries base64 images: it may be up to JSON_IMAGES_MAX_BYTES. */
export const IMAGE_FILES_JSON_PATH = `/${TRAINING_BASE}/projects/:projectId/images/files`;

/** Creating images: from data (multipart), from files (base64 JSON batch), with tags or regions. */
@CustomVisionTrainingController()
@CustomVisionErrors(400)
@Controller(`${TRAINING_BASE}/projects/:projectId/images`)
export class CreateImagesController {
  constructor(
    private readonly batch: ImageBatch,
    private readonly reads: CustomVisionReads,
    private readonly limits: UploadLimits,
    private readonly fetcher: UrlFetcher,
  ) {}

  @Post()
  @ApiOperation({
    operationId: 'CustomVision_CreateImagesFromData',
    requestBody: IMAGE_DATA_REQUEST_BODY,
    summary: 'Custom Vision: create images from data (multipart part imageData, ?tagIds=a,b); 207 when some failed',
    description: CV_QUOTA_DESCRIPTION,
  })
  @ApiOkResponse({ type: CvImageCreateSummaryDto, description: 'Every image is in the project.' })
  @ApiResponse({
    status: 207,
    type: CvImageCreateSummaryDto,
    description: 'Some images were not created: see each status.',
  })
  async fromData(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvCreateImagesFromDataQueryDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<ImageCreateSummary> {
    const project = await this.reads.project(projectId, user.id);
    const tags = query.tagIds ?? [];
    const images = await readImages(request, this.limits.UPLOAD_MAX_REQUEST_BYTES);
    if (images.length === 0)
      throw CustomVisionError.badRequest(
        'BadRequestImageBatch',
        'The request carries no image (multipart part imageData).',
      );
    if (images.length > MAX_IMAGES_PER_BATCH) throw tooMany(images.length);
    const entries: ImageEntry[] = images.map(({ filename, data }) => ({
      name: filename,
      bytes: data.length > this.limits.UPLOAD_MAX_FILE_BYTES ? null : data,
      tagIds: tags,
      regions: [],
    }));
    return answer(await this.batch.create(project, entries, userContext(context, user), baseUrlOf(request)), response);
  }

  @Post('files')
  @ApiOperation({
    operationId: 'CustomVision_CreateImagesFromFiles',
    summary: 'Custom Vision: create images from files ({images: [{name, contents (base64), tagIds, regions}], tagIds})',
    description: CV_QUOTA_DESCRIPTION,
  })
  @ApiOkResponse({ type: CvImageCreateSummaryDto, description: 'Every image is in the project.' })
  @ApiResponse({
    status: 207,
    type: CvImageCreateSummaryDto,
    description: 'Some images were not created: see each status.',
  })
  async fromFiles(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: CvImageFileCreateBatchDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<ImageCreateSummary> {
    const project = await this.reads.project(projectId, user.id);
    const { batchTags, metadata } = batchOf(body);
    const entries = body.images.map((image, index): ImageEntry => {
      const bytes = Buffer.from(image.contents, 'base64');
      if (image.name) requireFileName(image.name);
      return {
        name: image.name || `image-${index + 1}`,
        bytes: bytes.length > this.limits.UPLOAD_MAX_FILE_BYTES ? null : bytes,
        tagIds: tagsOf(image, batchTags),
        regions: image.regions ?? [],
      };
    });
    return answer(
      await this.batch.create(project, entries, userContext(context, user), baseUrlOf(request), metadata),
      response,
    );
  }

  @Post('urls')
  @ApiOperation({
    operationId: 'CustomVision_CreateImagesFromUrls',
    summary:
      'Custom Vision: create images from URLs ({images: [{url, tagIds, regions}], tagIds, metadata}); 207 when some failed',
    description:
      'Each URL is fetched with the limits and address checks of POST /v1/projects/{projectId}/images/urls: a URL that cannot be ' +
      'fetched (refused address, error status, timeout, not an image) is ErrorSource, one over URL_FETCH_MAX_BYTES ErrorImageSize. ' +
      CV_QUOTA_DESCRIPTION,
  })
  @ApiOkResponse({ type: CvImageCreateSummaryDto, description: 'Every image is in the project.' })
  @ApiResponse({
    status: 207,
    type: CvImageCreateSummaryDto,
    description: 'Some images were not created: see each status.',
  })
  async fromUrls(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: CvImageUrlCreateBatchDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<ImageCreateSummary> {
    const project = await this.reads.project(projectId, user.id);
    const { batchTags, metadata } = batchOf(body);
    const wanted = body.images.map((image) => ({
      url: image.url,
      tagIds: tagsOf(image, batchTags),
      regions: image.regions ?? [],
    }));
    const fetched = await this.fetcher.fetchEach(wanted.map(({ url }) => url));
    const entries = wanted.map(({ url, tagIds, regions }, index): ImageEntry => {
      const outcome = fetched[index];
      if ('image' in outcome) {
        return {
          name: url,
          bytes: outcome.image.bytes.length > this.limits.UPLOAD_MAX_FILE_BYTES ? null : outcome.image.bytes,
          tagIds,
          regions,
        };
      }
      return {
        name: url,
        bytes: null,
        tagIds,
        regions,
        failed: outcome.error.code === 'URL_TOO_LARGE' ? 'ErrorImageSize' : 'ErrorSource',
      };
    });
    return answer(
      await this.batch.create(project, entries, userContext(context, user), baseUrlOf(request), metadata),
      response,
    );
  }
}
