import { Injectable } from '@nestjs/common';
import { DomainError, type Page } from '@diyml/core';
import type { LabelView } from '@diyml/projects';
import { ReadStore, type Where } from '@diyml/read-store';
import { DatasetErrors } from '../../domain/dataset-errors.js';
import type { ImageOrigin, Split } from '../../domain/image.events.js';
import { IMAGES, type ImageView, LABEL_STATS, type LabelStatsView } from './image.view.js';

export interface ImageFilter {
  /** Images whose label, or any of whose boxes, is this label id. */
  labelId?: string;
  /** true: only images without label and boxes; false: only labeled ones. */
  unlabeled?: boolean;
  split?: Split;
  included?: boolean;
  /** Images with this metadata entry, `key=value`. */
  metadata?: string;
}

/** An image with its label names resolved against the project's current labels. */
export interface LabeledImage {
  id: string;
  filename: string;
  width: number;
  height: number;
  format: string;
  bytes: number;
  sha256: string;
  label: LabelView | null;
  /** Whole-image labels: classification's label (0 or 1), or a multilabel image's labels (0..n). */
  labels: LabelView[];
  regions: { label: LabelView; x: number; y: number; width: number; height: number }[];
  split: Split;
  included: boolean;
  metadata: Record<string, string>;
  uploadedAt: string;
  source?: ImageOrigin;
  revision: number;
}

/**
 * Reads of the datasets context for other contexts too: training freezes a manifest from `listAll`,
 * the projects context reads label image counts.
 */
@Injectable()
export class DatasetQueries {
  constructor(private readonly readStore: ReadStore) {}

  private get images() {
    return this.readStore.collection<ImageView>(IMAGES);
  }

  /** One image of the project; IMAGE_NOT_FOUND (404) when missing, removed or in another project. */
  async get(projectId: string, imageId: string): Promise<ImageView> {
    const image = await this.images.get(imageId);
    if (!image || image.projectId !== projectId) {
      throw DomainError.notFound(DatasetErrors.IMAGE_NOT_FOUND, `Image ${imageId} does not exist in this project.`);
    }
    return image;
  }

  /** Every image of the project that is not removed, in upload order. */
  async listAll(projectId: string): Promise<ImageView[]> {
    const all = await this.images.findAll({ projectId });
    return all.sort((a, b) => a.seq - b.seq);
  }

  /** The images of the project among `imageIds`, in that order; removed images and other projects' are left out. */
  async byIds(projectId: string, imageIds: readonly string[]): Promise<ImageView[]> {
    const found = await Promise.all(imageIds.map((imageId) => this.images.get(imageId)));
    return found.filter((image): image is ImageView => image?.projectId === projectId);
  }

  /**
   * A page of the project's images in upload order (newest first with `direction: 'desc'`), served from the read
   * store's index on the filter's fields.
   */
  async list(
    projectId: string,
    filter: ImageFilter,
    page: { limit: number; cursor?: string; direction?: 'asc' | 'desc' },
  ): Promise<Page<ImageView>> {
    return this.images.find({
      where: this.whereOf(projectId, filter),
      orderBy: 'seq',
      direction: page.direction,
      limit: page.limit,
      cursor: page.cursor,
    });
  }

  /** How many of the project's images pass the filter, from the same index. */
  count(projectId: string, filter: ImageFilter): Promise<number> {
    return this.images.count(this.whereOf(projectId, filter));
  }

  private whereOf(projectId: string, filter: ImageFilter): Where<ImageView> {
    const where: Where<ImageView> = { projectId };
    if (filter.split !== undefined) where.split = filter.split;
    if (filter.included !== undefined) where.included = filter.included;
    if (filter.unlabeled !== undefined) where.labeled = !filter.unlabeled;
    // The label of the image or of any of its boxes: labelIds holds them all.
    if (filter.labelId !== undefined) where.labelIds = filter.labelId;
    if (filter.metadata !== undefined) where.metadataEntries = filter.metadata;
    return where;
  }

  /** label id → number of images using it (as label or in a box); labels without images are absent. */
  async labelImageCounts(projectId: string): Promise<Map<string, number>> {
    const stats = await this.readStore.collection<LabelStatsView>(LABEL_STATS).findAll({ projectId });
    return new Map(stats.map((label) => [label.id, label.imageCount]));
  }

  /** Resolves label ids to the project's labels; a label no longer in the project shows as null / is dropped. */
  static withLabels(image: ImageView, labels: readonly LabelView[]): LabeledImage {
    const byId = new Map(labels.map((label) => [label.id, label]));
    return {
      id: image.id,
      filename: image.filename,
      width: image.width,
      height: image.height,
      format: image.format,
      bytes: image.bytes,
      sha256: image.sha256,
      label: labelOf(image.labelId ? byId.get(image.labelId) : undefined),
      labels: [...(image.labelId ? [image.labelId] : []), ...image.labelSet].flatMap((labelId) => {
        const label = labelOf(byId.get(labelId));
        return label ? [label] : [];
      }),
      regions: image.regions.flatMap(({ labelId, x, y, width, height }) => {
        const label = byId.get(labelId);
        return label ? [{ label: { id: label.id, name: label.name }, x, y, width, height }] : [];
      }),
      split: image.split,
      included: image.included,
      metadata: image.metadata,
      uploadedAt: image.uploadedAt,
      ...(image.source ? { source: image.source } : {}),
      revision: image.revision,
    };
  }
}

function labelOf(label: LabelView | undefined): LabelView | null {
  return label ? { id: label.id, name: label.name } : null;
}
