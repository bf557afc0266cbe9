import { Body, Controller, Delete, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { type AuthenticatedUser, Clock, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import type { ImageView } from '@diyml/datasets';
import { LabelImages } from '@diyml/datasets';
import { RemoveImage } from '@diyml/datasets';
import type { ProjectView } from '@diyml/projects';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { regionIdOf } from '../../domain/shapes.js';
import { CustomVisionErrors } from '../../http/custom-vision-error.dto.js';
import { CustomVisionTrainingController, TRAINING_BASE, userContext } from '../../http/custom-vision-controller.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';
import type { CvRegionInput } from './image-batch.js';
import {
  CvDeleteImageRegionsQueryDto,
  CvDeleteImagesQueryDto,
  CvDeleteImageTagsQueryDto,
  CvImageRegionCreateBatchDto,
  CvImageTagCreateBatchDto,
} from './image-requests.dto.js';
import { CvImageRegionCreateSummaryDto, CvImageTagCreateSummaryDto } from './images.dto.js';

interface RegionEntry extends CvRegionInput {
  imageId: string;
}

interface RegionCreated extends RegionEntry {
  regionId: string;
  tagName: string;
  created: string;
}

interface TagEntry {
  imageId: string;
  tagId: string;
}

function sameBox(a: { labelId: string; x: number; y: number; width: number; height: number }, b: RegionEntry): boolean {
  return a.labelId === b.tagId && a.x === b.left && a.y === b.top && a.width === b.width && a.height === b.height;
}

function requireType(project: ProjectView, types: readonly ProjectView['type'][], what: string): void {
  if (!types.includes(project.type)) {
    throw CustomVisionError.badRequest(
      'BadRequestNotSupported',
      `${what} belong to ${types.includes('detection') ? 'object detection' : 'classification'} projects.`,
    );
  }
}

/** An image's whole-image tags: its Multiclass tag, or its Multilabel tags (one of the two is empty). */
function tagsOf(image: ImageView): string[] {
  return image.labelId ? [image.labelId, ...image.labelSet] : image.labelSet;
}

/** Tags and regions on existing images (LabelImages), and deleting images (RemoveImage). */
@CustomVisionTrainingController()
@CustomVisionErrors(400)
@Controller(`${TRAINING_BASE}/projects/:projectId/images`)
export class ChangeImagesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly reads: CustomVisionReads,
    private readonly clock: Clock,
  ) {}

  @Post('regions')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_CreateImageRegions',
    summary:
      'Custom Vision: add regions to images ({regions: [{imageId, tagId, left, top, width, height}]}); 207 when some failed',
  })
  @ApiOkResponse({ type: CvImageRegionCreateSummaryDto, description: 'Every region is on its image.' })
  @ApiResponse({
    status: 207,
    type: CvImageRegionCreateSummaryDto,
    description: 'Some regions were not added (an unknown image, or one that refused them).',
  })
  async createRegions(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: CvImageRegionCreateBatchDto,
    @Res({ passthrough: true }) response: Response,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<CvImageRegionCreateSummaryDto> {
    const project = await this.reads.project(projectId, user.id);
    requireType(project, ['detection'], 'Regions');
    const entries: RegionEntry[] = body.regions.map(({ imageId, tagId, left, top, width, height }) => ({
      imageId: imageId.toLowerCase(),
      tagId: tagId.toLowerCase(),
      left,
      top,
      width,
      height,
    }));
    const byImage = new Map<string, RegionEntry[]>();
    for (const entry of entries) byImage.set(entry.imageId, [...(byImage.get(entry.imageId) ?? []), entry]);

    const duplicated: RegionEntry[] = [];
    const items: {
      imageId: string;
      regions: { label: string; x: number; y: number; width: number; height: number }[];
    }[] = [];
    const added = new Map<string, RegionEntry[]>();
    let failed = 0;
    for (const [imageId, wanted] of byImage) {
      let image: ImageView;
      try {
        image = await this.reads.image(projectId, imageId);
      } catch {
        failed += wanted.length;
        continue;
      }
      const regions = image.regions.map((region) => ({ ...region }));
      const fresh: RegionEntry[] = [];
      for (const entry of wanted) {
        if (regions.some((region) => sameBox(region, entry))) duplicated.push(entry);
        else {
          regions.push({ labelId: entry.tagId, x: entry.left, y: entry.top, width: entry.width, height: entry.height });
          fresh.push(entry);
        }
      }
      if (fresh.length === 0) continue;
      added.set(imageId, fresh);
      items.push({
        imageId,
        regions: regions.map(({ labelId, x, y, width, height }) => ({ label: labelId, x, y, width, height })),
      });
    }

    const created: RegionCreated[] = [];
    if (items.length > 0) {
      const result = await this.commands.execute(new LabelImages(projectId, items, userContext(context, user)));
      const names = new Map(project.labels.map((label) => [label.id, label.name]));
      const now = this.clock.now().toISOString();
      for (const item of result.items) {
        const fresh = added.get(item.imageId) ?? [];
        if (item.status === 'failed') {
          failed += fresh.length;
          continue;
        }
        const image = await this.reads.image(projectId, item.imageId);
        for (const entry of fresh) {
          const index = image.regions.findIndex((region) => sameBox(region, entry));
          created.push({
            ...entry,
            regionId: regionIdOf(image.id, index, image.regions[index]),
            tagName: names.get(entry.tagId) ?? '',
            created: now,
          });
        }
      }
    }
    response.status(failed > 0 ? 207 : 200);
    return { created, duplicated, exceeded: [] };
  }

  @Delete('regions')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'CustomVision_DeleteImageRegions',
    summary: 'Custom Vision: delete regions (?regionIds=a,b)',
  })
  @ApiNoContentResponse()
  async deleteRegions(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvDeleteImageRegionsQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.reads.project(projectId, user.id);
    const wanted = new Set(query.regionIds);
    const items = (await this.reads.images(projectId)).flatMap((image) => {
      const kept = image.regions.filter((region, index) => !wanted.has(regionIdOf(image.id, index, region)));
      if (kept.length === image.regions.length) return [];
      return [
        {
          imageId: image.id,
          regions: kept.map(({ labelId, x, y, width, height }) => ({ label: labelId, x, y, width, height })),
        },
      ];
    });
    if (items.length > 0) await this.commands.execute(new LabelImages(projectId, items, userContext(context, user)));
  }

  @Post('tags')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'CustomVision_CreateImageTags',
    summary:
      'Custom Vision: tag images ({tags: [{imageId, tagId}]}, at most 128); one tag per image (Multiclass), any number (Multilabel)',
  })
  @ApiOkResponse({ type: CvImageTagCreateSummaryDto })
  async createTags(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: CvImageTagCreateBatchDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<CvImageTagCreateSummaryDto> {
    const project = await this.reads.project(projectId, user.id);
    requireType(project, ['classification', 'multilabel'], 'Image tags');
    const multilabel = project.type === 'multilabel';
    const entries: TagEntry[] = body.tags.map(({ imageId, tagId }) => ({
      imageId: imageId.toLowerCase(),
      tagId: tagId.toLowerCase(),
    }));
    const labelIds = new Set(project.labels.map((label) => label.id));
    const created: TagEntry[] = [];
    const duplicated: TagEntry[] = [];
    const exceeded: TagEntry[] = [];
    // Per image: the tags it has, and the entries adding to them.
    const chosen = new Map<string, { tags: string[]; added: TagEntry[] }>();
    for (const entry of entries) {
      if (!labelIds.has(entry.tagId))
        throw CustomVisionError.notFound('NotFoundTag', `Tag ${entry.tagId} does not exist in this project.`);
      const image = await this.reads.image(projectId, entry.imageId);
      const current = chosen.get(entry.imageId) ?? { tags: tagsOf(image), added: [] };
      if (current.tags.includes(entry.tagId)) duplicated.push(entry);
      else if (!multilabel && current.tags.length > 0) exceeded.push(entry);
      else chosen.set(entry.imageId, { tags: [...current.tags, entry.tagId], added: [...current.added, entry] });
    }
    const changed = [...chosen.entries()].filter(([, change]) => change.added.length > 0);
    // The Negative tag stays alone on its image, as Azure refuses the whole request otherwise.
    const negativeId = project.labels.find((label) => label.negative)?.id;
    const mixed = changed.find(
      ([, { tags }]) => tags.length > 1 && negativeId !== undefined && tags.includes(negativeId),
    );
    if (mixed) {
      throw CustomVisionError.badRequest(
        'BadRequestNegativeAndRegularTagOnSameImage',
        `Image ${mixed[0]} would carry the Negative tag and other tags: the Negative tag says it shows none of them.`,
      );
    }
    if (changed.length > 0) {
      const result = await this.commands.execute(
        new LabelImages(
          projectId,
          changed.map(([imageId, { tags }]) => ({ imageId, labels: tags })),
          userContext(context, user),
        ),
      );
      result.items.forEach((item, index) => {
        (item.status === 'failed' ? exceeded : created).push(...changed[index][1].added);
      });
    }
    return { created, duplicated, exceeded };
  }

  @Delete('tags')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'CustomVision_DeleteImageTags',
    summary: 'Custom Vision: untag images (?imageIds=&tagIds=)',
  })
  @ApiNoContentResponse()
  async deleteTags(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvDeleteImageTagsQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.reads.project(projectId, user.id);
    const tags = new Set(query.tagIds);
    const items: { imageId: string; labels: string[] }[] = [];
    for (const imageId of query.imageIds) {
      const image = await this.reads.image(projectId, imageId);
      const current = tagsOf(image);
      const kept = current.filter((tagId) => !tags.has(tagId));
      if (kept.length < current.length) items.push({ imageId, labels: kept });
    }
    if (items.length > 0) await this.commands.execute(new LabelImages(projectId, items, userContext(context, user)));
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    operationId: 'CustomVision_DeleteImages',
    summary: 'Custom Vision: delete images (?imageIds=a,b or ?allImages=true)',
  })
  @ApiNoContentResponse()
  async deleteImages(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Query() query: CvDeleteImagesQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<void> {
    await this.reads.project(projectId, user.id);
    const ids = query.allImages
      ? (await this.reads.images(projectId)).map((image) => image.id)
      : (query.imageIds ?? []);
    for (const imageId of ids)
      await this.commands.execute(new RemoveImage(projectId, imageId, undefined, userContext(context, user)));
  }
}
