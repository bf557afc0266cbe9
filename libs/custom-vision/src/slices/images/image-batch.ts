import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { ProjectView } from '@diyml/projects';
import { LabelImages } from '@diyml/datasets';
import { RemoveImage } from '@diyml/datasets';
import { isDomainError } from '@diyml/core/pure';
import { UpdateImageMetadata } from '@diyml/datasets';
import { UploadImages } from '@diyml/datasets';
import type { IntakeItem } from '@diyml/datasets';
import { ImageIntake } from '@diyml/datasets';
import { type CvImage, toCvImage } from '../../domain/shapes.js';
import type { UserContext } from '../../http/custom-vision-controller.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';

/** A region as Custom Vision sends it: fractions of the image, origin top-left. */
export interface CvRegionInput {
  tagId: string;
  left: number;
  top: number;
  width: number;
  height: number;
}

/** One image to create: `bytes` null when it was over the size limit; `failed` when it could not be read at all. */
export interface ImageEntry {
  name: string;
  bytes: Buffer | null;
  tagIds: string[];
  regions: CvRegionInput[];
  failed?: ImageCreateStatus;
}

export type ImageCreateStatus =
  | 'OK'
  | 'OKDuplicate'
  | 'ErrorSource'
  | 'ErrorImageFormat'
  | 'ErrorImageSize'
  | 'ErrorStorage'
  | 'ErrorLimitExceed'
  | 'ErrorTagLimitExceed'
  | 'ErrorRegionLimitExceed'
  | 'ErrorUnknown'
  | 'ErrorImageDimensions'
  | 'ErrorInvalidTag'
  | 'ErrorNegativeAndRegularTagOnSameImage';

export interface ImageCreateResult {
  sourceUrl: string;
  status: ImageCreateStatus;
  image: CvImage | null;
}

export interface ImageCreateSummary {
  isBatchSuccessful: boolean;
  images: ImageCreateResult[];
}

/** Our rejection codes (datasets context) → Custom Vision's image statuses. */
const STATUS_BY_CODE: Record<string, ImageCreateStatus> = {
  UNSUPPORTED_IMAGE: 'ErrorImageFormat',
  UNSUPPORTED_IMAGE_FORMAT: 'ErrorImageFormat',
  CORRUPT_IMAGE: 'ErrorImageFormat',
  EMPTY_FILE: 'ErrorImageFormat',
  FILE_TOO_LARGE: 'ErrorImageSize',
  IMAGE_TOO_LARGE: 'ErrorImageDimensions',
  UNKNOWN_LABEL: 'ErrorInvalidTag',
  LABEL_NOT_IN_PROJECT: 'ErrorInvalidTag',
  TOO_MANY_REGIONS: 'ErrorRegionLimitExceed',
  NEGATIVE_AND_REGULAR_LABEL: 'ErrorNegativeAndRegularTagOnSameImage',
};

export function statusOf(code: string | undefined): ImageCreateStatus {
  return (code && STATUS_BY_CODE[code]) || 'ErrorUnknown';
}

/**
 * Creates a Custom Vision image batch with the datasets context's commands: UploadImages (one command per
 * tag, since it labels every file it takes alike), then, in detection projects, LabelImages with the regions.
 * An image whose regions are refused is removed again, so an error status means nothing was created.
 */
@Injectable()
export class ImageBatch {
  constructor(
    private readonly commands: CommandBus,
    private readonly reads: CustomVisionReads,
    private readonly intake: ImageIntake,
  ) {}

  /** `metadata`: the batch's metadata, merged into that of every image created or found (Azure's batch `metadata`). */
  async create(
    project: ProjectView,
    entries: readonly ImageEntry[],
    context: UserContext,
    baseUrl: string,
    metadata: Record<string, string> = {},
  ): Promise<ImageCreateSummary> {
    const labelIds = new Set(project.labels.map((label) => label.id));
    const negativeIds = new Set(project.labels.filter((label) => label.negative).map((label) => label.id));
    const results: (ImageCreateResult & { id?: string })[] = entries.map((entry) => ({
      sourceUrl: entry.name,
      status: 'OK',
      image: null,
    }));
    const groups = new Map<string, number[]>();
    entries.forEach((entry, index) => {
      if (entry.failed) {
        results[index].status = entry.failed;
        return;
      }
      const tagIds = [...new Set(entry.tagIds.map((id) => id.toLowerCase()))];
      const regionTags = entry.regions.map((region) => region.tagId.toLowerCase());
      if ([...tagIds, ...regionTags].some((id) => !labelIds.has(id))) {
        results[index].status = 'ErrorInvalidTag';
        return;
      }
      // Classification: one tag per image; multilabel: any number. Detection: tags belong to regions, image-level
      // tags are not kept.
      const labels = project.type === 'detection' ? [] : tagIds.sort();
      if (project.type === 'classification' && labels.length > 1) {
        results[index].status = 'ErrorTagLimitExceed';
        return;
      }
      if (labels.length > 1 && labels.some((id) => negativeIds.has(id))) {
        results[index].status = 'ErrorNegativeAndRegularTagOnSameImage';
        return;
      }
      const key = labels.join(',');
      groups.set(key, [...(groups.get(key) ?? []), index]);
    });

    // The whole batch before its first group is taken: past the quota, nothing is (400 BadRequestExceededQuota).
    const adding = [...groups.values()].reduce((sum, indexes) => sum + indexes.length, 0);
    // Reserved for the whole batch: the uploads of its groups run inside the reservation, not counted again.
    await this.intake.withRoom({ projectId: project.id, ownerId: project.ownerId }, adding, () =>
      this.upload(project, groups, entries, results, context),
    );

    if (project.type === 'detection') await this.setRegions(project, entries, results, context);
    return this.summarise(project, results, context, baseUrl, metadata);
  }

  /** Uploads the files of each group of tags. */
  private async upload(
    project: ProjectView,
    groups: ReadonlyMap<string, number[]>,
    entries: readonly ImageEntry[],
    results: (ImageCreateResult & { id?: string })[],
    context: UserContext,
  ): Promise<void> {
    for (const [key, indexes] of groups) {
      const files = indexes.map((index) => ({
        filename: entries[index].name,
        size: entries[index].bytes?.length ?? 0,
        buffer: entries[index].bytes,
      }));
      const items: IntakeItem[] = await this.commands.execute(
        new UploadImages(project.id, files, key ? key.split(',') : [], undefined, context),
      );
      items.forEach((item, position) => {
        const result = results[indexes[position]];
        if (item.status === 'rejected') result.status = statusOf(item.error?.code);
        else {
          result.status = item.status === 'created' ? 'OK' : 'OKDuplicate';
          result.id = item.id;
        }
      });
    }
  }

  /**
   * Merges the batch's metadata into every image created or found, and answers the batch: each result with
   * its image (when it has one) in Custom Vision's shape.
   */
  async summarise(
    project: ProjectView,
    results: (ImageCreateResult & { id?: string })[],
    context: UserContext,
    baseUrl: string,
    metadata: Record<string, string>,
  ): Promise<ImageCreateSummary> {
    if (Object.keys(metadata).length > 0) {
      for (const result of results) {
        if (!result.id) continue;
        try {
          await this.commands.execute(
            new UpdateImageMetadata(project.id, result.id, metadata, 'merge', undefined, context),
          );
        } catch (error) {
          // Over the 10 entries an image may have, with those it already had.
          if (!isDomainError(error, 'METADATA_TOO_MANY_ENTRIES')) throw error;
          result.status = 'ErrorLimitExceed';
        }
      }
    }

    for (const result of results) {
      if (result.id && (result.status === 'OK' || result.status === 'OKDuplicate')) {
        result.image = toCvImage(await this.reads.image(project.id, result.id), project, baseUrl);
      }
    }
    return {
      isBatchSuccessful: results.every((result) => result.status === 'OK' || result.status === 'OKDuplicate'),
      images: results.map(({ sourceUrl, status, image }) => ({ sourceUrl, status, image })),
    };
  }

  /** Boxes of newly created images (a duplicate keeps the boxes it has). */
  private async setRegions(
    project: ProjectView,
    entries: readonly ImageEntry[],
    results: (ImageCreateResult & { id?: string })[],
    context: UserContext,
  ): Promise<void> {
    const targets = results.flatMap((result, index) =>
      result.status === 'OK' && result.id && entries[index].regions.length > 0 ? [{ index, imageId: result.id }] : [],
    );
    if (targets.length === 0) return;
    const labeled = await this.commands.execute(
      new LabelImages(
        project.id,
        targets.map(({ index, imageId }) => ({ imageId, regions: entries[index].regions.map(toRegionInput) })),
        context,
      ),
    );
    for (const [position, item] of labeled.items.entries()) {
      if (item.status !== 'failed') continue;
      const { index, imageId } = targets[position];
      await this.commands.execute(new RemoveImage(project.id, imageId, undefined, context));
      results[index].status = statusOf(item.error?.code);
      results[index].id = undefined;
    }
  }
}

export function toRegionInput(region: CvRegionInput): {
  label: string;
  x: number;
  y: number;
  width: number;
  height: number;
} {
  return {
    label: region.tagId.toLowerCase(),
    x: region.left,
    y: region.top,
    width: region.width,
    height: region.height,
  };
}
