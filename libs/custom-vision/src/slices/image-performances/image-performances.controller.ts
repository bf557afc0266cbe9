import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { negativeLabelIdOf } from '../../domain/image-prediction.js';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import { type AuthenticatedUser, CurrentUser, UuidParam } from '@diyml/core';
import { type ImagePerformance, ImagePerformanceQueries } from '@diyml/training';
import { type CvRegion, regionIdOf } from '../../domain/shapes.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE } from '../../http/custom-vision-controller.js';
import { baseUrlOf } from '../../http/query.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import {
  CvImagePerformanceCountQueryDto,
  CvImagePerformanceDto,
  CvImagePerformancesQueryDto,
} from './image-performances.dto.js';

/** getImagePerformances and getImagePerformanceCount, from the per-image results training kept (ImagePerformanceQueries). */
@CustomVisionTrainingController()
@CustomVisionErrors(400)
@Controller(`${TRAINING_BASE}/projects/:projectId/iterations/:iterationId/performance/images`)
export class ImagePerformancesController {
  constructor(
    private readonly reads: CustomVisionReads,
    private readonly performances: ImagePerformanceQueries,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'CustomVision_GetImagePerformances',
    summary:
      "Custom Vision: the iteration's validation images with their predictions (?tagIds=&orderBy=Newest|Oldest&take=&skip=)",
    description:
      'Every prediction training kept is listed (all tags for classification; every box found for detection).',
  })
  @ApiOkResponse({ type: [CvImagePerformanceDto] })
  async list(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() { tagIds, take = 50, skip = 0, orderBy = 'Newest' }: CvImagePerformancesQueryDto,
    @Req() request: Request,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<CvImagePerformanceDto[]> {
    const project = await this.reads.project(projectId, user.id);
    const found = await this.find(projectId, iterationId, tagIds);
    const created = await this.creationDates(projectId, iterationId);
    const createdOf = (performance: ImagePerformance) => created.images.get(performance.imageId) ?? created.iteration;
    found.sort((a, b) => createdOf(a).localeCompare(createdOf(b)) || a.imageId.localeCompare(b.imageId));
    if (orderBy === 'Newest') found.reverse();
    const baseUrl = baseUrlOf(request);
    return found
      .slice(skip, skip + take)
      .map((performance) =>
        toCvImagePerformance(performance, projectId, createdOf(performance), baseUrl, negativeLabelIdOf(project)),
      );
  }

  @Get('count')
  @ApiOperation({
    operationId: 'CustomVision_GetImagePerformanceCount',
    summary: 'Custom Vision: how many validation images the iteration has (?tagIds=)',
  })
  @ApiOkResponse({ schema: { type: 'integer', example: 42 } })
  async count(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() query: CvImagePerformanceCountQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<number> {
    await this.reads.project(projectId, user.id);
    return (await this.find(projectId, iterationId, query.tagIds)).length;
  }

  /** Threshold 0: Custom Vision lists every probability; a tag filter keeps images that carry any of the tags. */
  private find(projectId: string, iterationId: string, tagIds: string[] = []): Promise<ImagePerformance[]> {
    return this.performances.find(projectId, iterationId, { labels: tagIds, threshold: 0 });
  }

  /** When each image was uploaded; an image removed since the iteration counts as created when it was queued. */
  private async creationDates(projectId: string, iterationId: string) {
    const [images, iteration] = await Promise.all([
      this.reads.images(projectId),
      this.reads.iteration(projectId, iterationId),
    ]);
    return { images: new Map(images.map((image) => [image.id, image.uploadedAt])), iteration: iteration.queuedAt };
  }
}

function toCvImagePerformance(
  performance: ImagePerformance,
  projectId: string,
  created: string,
  baseUrl: string,
  negativeLabelId: string | null,
): CvImagePerformanceDto {
  const uri = `${baseUrl}/v1/projects/${projectId}/images/${performance.imageId}/content`;
  const regions = performance.expected.flatMap((expected, index): CvRegion[] =>
    expected.box
      ? [
          {
            regionId: regionIdOf(performance.imageId, index, expected.box),
            tagName: expected.label,
            created,
            tagId: expected.labelId,
            left: expected.box.x,
            top: expected.box.y,
            width: expected.box.width,
            height: expected.box.height,
          },
        ]
      : [],
  );
  const tags = [
    ...new Map(
      performance.expected.map((expected) => [
        expected.labelId,
        { tagId: expected.labelId, tagName: expected.label, created },
      ]),
    ).values(),
  ];
  return {
    id: performance.imageId,
    created,
    width: performance.width,
    height: performance.height,
    imageUri: uri,
    thumbnailUri: uri,
    tags: tags.length ? tags : null,
    regions: regions.length ? regions : null,
    predictions: performance.predictions.map((prediction) => ({
      probability: prediction.probability,
      tagId: prediction.labelId,
      tagName: prediction.label,
      ...(prediction.box
        ? {
            boundingBox: {
              left: prediction.box.x,
              top: prediction.box.y,
              width: prediction.box.width,
              height: prediction.box.height,
            },
          }
        : {}),
      tagType: prediction.labelId === negativeLabelId ? 'Negative' : 'Regular',
    })),
  };
}
