import { Body, Controller, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { type AuthenticatedUser, Ctx, CurrentUser, isDomainError, type RequestContext, UuidParam } from '@diyml/core';
import {
  type Promotion,
  PredictionPromoter,
  StoredPredictionQueries,
  type StoredPredictionView,
} from '@diyml/deployments';
import { PredictionKeeper } from '@diyml/deployments';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE, userContext } from '../../http/custom-vision-controller.js';
import { baseUrlOf } from '../../http/query.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import { batchOf, tagsOf } from './create-images.controller.js';
import { CvImageIdCreateBatchDto } from './image-requests.dto.js';
import { type ImageCreateResult, ImageBatch, type ImageCreateSummary, statusOf, toRegionInput } from './image-batch.js';
import { CvImageCreateSummaryDto } from './images.dto.js';

type Result = ImageCreateResult & { id?: string };

/**
 * CreateImagesFromPredictions: stored predictions (the deployments' prediction store) become project images with
 * the tags or regions given, through the native promotion (POST /v1/projects/{projectId}/predictions/promote), so
 * each stored prediction records the image it became. As Azure, an image without tagIds or regions is added
 * untagged; the predicted tags are not taken.
 */
@CustomVisionTrainingController()
@CustomVisionErrors(400)
@Controller(`${TRAINING_BASE}/projects/:projectId/images/predictions`)
export class CreateImagesFromPredictionsController {
  constructor(
    private readonly reads: CustomVisionReads,
    private readonly stored: StoredPredictionQueries,
    private readonly promoter: PredictionPromoter,
    private readonly batch: ImageBatch,
    private readonly keeper: PredictionKeeper,
  ) {}

  @Post()
  @ApiOperation({
    operationId: 'CustomVision_CreateImagesFromPredictions',
    summary:
      'Custom Vision: add stored predictions to the project as images ({images: [{id, tagIds, regions}], tagIds, metadata}); 207 when some failed',
    description:
      'Per image: ErrorSource when the id is not a stored prediction of the project, ErrorInvalidTag for a tag of another project, ' +
      'ErrorTagLimitExceed for more than one tag in a classification project, OKDuplicate when the prediction (or its bytes) is in the dataset already.',
  })
  @ApiOkResponse({ type: CvImageCreateSummaryDto, description: 'Every image is in the project.' })
  @ApiResponse({
    status: 207,
    type: CvImageCreateSummaryDto,
    description: 'Some images were not created: see each status.',
  })
  async create(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: CvImageIdCreateBatchDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<ImageCreateSummary> {
    const project = await this.reads.project(projectId, user.id);
    const { batchTags, metadata } = batchOf(body);
    const wanted = body.images.map((image) => ({
      id: image.id.toLowerCase(),
      tagIds: tagsOf(image, batchTags),
      regions: image.regions ?? [],
    }));
    if (new Set(wanted.map(({ id }) => id)).size !== wanted.length) {
      throw CustomVisionError.badRequest('BadRequestImageBatch', 'Each stored prediction may appear once in images.');
    }

    await this.keeper.written();
    const baseUrl = baseUrlOf(request);
    const labelIds = new Set(project.labels.map((label) => label.id));
    const results: Result[] = [];
    const promotions: { index: number; promotion: Promotion }[] = [];
    for (const [index, { id, tagIds, regions }] of wanted.entries()) {
      const result: Result = {
        sourceUrl: `${baseUrl}/v1/projects/${projectId}/predictions/${id}/image`,
        status: 'OK',
        image: null,
      };
      results.push(result);
      const view = await this.storedPrediction(projectId, id);
      if (!view) result.status = 'ErrorSource';
      else if (
        [...tagIds, ...regions.map((region) => region.tagId.toLowerCase())].some((tagId) => !labelIds.has(tagId))
      )
        result.status = 'ErrorInvalidTag';
      else if (project.type === 'classification' && tagIds.length > 1) result.status = 'ErrorTagLimitExceed';
      else if (view.promotedImageId) {
        // Added before: the image it became, as Azure answers an image it holds already (ErrorSource once deleted).
        const exists = await this.imageExists(projectId, view.promotedImageId);
        result.status = exists ? 'OKDuplicate' : 'ErrorSource';
        if (exists) result.id = view.promotedImageId;
      } else {
        // Classification: the one tag, or none. Multilabel: the tags. Detection: image-level tags are not kept; the
        // regions, or none.
        const promotion: Promotion =
          project.type === 'classification'
            ? { predictionId: id, label: tagIds[0] ?? null }
            : project.type === 'multilabel'
              ? { predictionId: id, labels: tagIds }
              : { predictionId: id, regions: regions.map(toRegionInput) };
        promotions.push({ index, promotion });
      }
    }

    if (promotions.length > 0) {
      const promoted = await this.promoter.promote(
        project,
        promotions.map(({ promotion }) => promotion),
        userContext(context, user),
      );
      promoted.forEach((outcome, position) => {
        const result = results[promotions[position].index];
        if (outcome.status === 'rejected') result.status = statusOf(outcome.error?.code);
        else {
          result.status = outcome.status === 'created' ? 'OK' : 'OKDuplicate';
          result.id = outcome.imageId;
        }
      });
    }
    const summary = await this.batch.summarise(project, results, userContext(context, user), baseUrl, metadata);
    response.status(summary.isBatchSuccessful ? 200 : 207);
    return summary;
  }

  private async storedPrediction(projectId: string, id: string): Promise<StoredPredictionView | undefined> {
    try {
      return await this.stored.get(projectId, id);
    } catch (error) {
      if (isDomainError(error, 'PREDICTION_NOT_FOUND')) return undefined;
      throw error;
    }
  }

  private async imageExists(projectId: string, imageId: string): Promise<boolean> {
    try {
      await this.reads.image(projectId, imageId);
      return true;
    } catch (error) {
      if (isDomainError(error, 'IMAGE_NOT_FOUND')) return false;
      throw error;
    }
  }
}
