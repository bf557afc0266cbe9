import { Injectable } from '@nestjs/common';
import type { DomainEvent } from '@diyml/core/pure';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore } from '@diyml/read-store/pure';
import { metadataEntries } from '../../domain/image-metadata.js';
import { IMAGE_EVENT_TYPES, type ImageEvent } from '../../domain/image.events.js';
import {
  IMAGES,
  type ImageView,
  LABEL_STATS,
  type LabelStatsView,
  labelsUsedBy,
  REMOVED_LABELS,
  type RemovedLabelView,
} from './image.view.js';

/** Events of the projects context this projection follows (by their stable type and data). */
type LabelRemoved = DomainEvent<'LabelRemoved', { projectId: string; labelId: string }>;
type ProjectDeleted = DomainEvent<'ProjectDeleted', { projectId: string }>;
type ProjectTypeChanged = DomainEvent<'ProjectTypeChanged', { projectId: string; type: string }>;
type ProjectEvents = LabelRemoved | ProjectDeleted | ProjectTypeChanged;

export const IMAGES_PROJECTION_EVENT_TYPES = [
  ...IMAGE_EVENT_TYPES,
  'LabelRemoved',
  'ProjectDeleted',
  'ProjectTypeChanged',
] as const;

/** The image without the labels in `removed`: no whole-image label of them, no box of them. */
function withoutLabels(image: ImageView, removed: ReadonlySet<string>): ImageView {
  return withLabelState({
    ...image,
    labelId: image.labelId !== null && removed.has(image.labelId) ? null : image.labelId,
    labelSet: image.labelSet.filter((labelId) => !removed.has(labelId)),
    regions: image.regions.filter((region) => !removed.has(region.labelId)),
  });
}

function withLabelState(image: ImageView): ImageView {
  return {
    ...image,
    labeled: image.labelId !== null || image.labelSet.length > 0 || image.regions.length > 0,
    labelIds: [...labelsUsedBy(image)].sort(),
  };
}

/** Next version of an image document for one of its own events; null deletes it. */
function evolveImage(current: ImageView | undefined, event: Recorded<ImageEvent>): ImageView | null {
  if (event.type === 'ImageUploaded') {
    const { imageId, projectId, filename, width, height, format, bytes, sha256, dhash, labelId, split, source } =
      event.data;
    return withLabelState({
      id: imageId,
      projectId,
      filename,
      width,
      height,
      format,
      bytes,
      sha256,
      dhash,
      labelId,
      labelSet: [],
      regions: [],
      labeled: false,
      labelIds: [],
      split,
      metadata: {},
      metadataEntries: [],
      included: true,
      uploadedAt: event.metadata.at,
      ...(source ? { source } : {}),
      seq: event.position,
      revision: event.revision,
    });
  }
  if (!current) return null;
  const revision = event.revision;
  switch (event.type) {
    // The latest whole-image labels replace the earlier ones, of either kind (a project may have changed type).
    case 'ImageLabeled':
      return withLabelState({ ...current, labelId: event.data.labelId, labelSet: [], revision });
    case 'ImageLabelsSet':
      return withLabelState({ ...current, labelId: null, labelSet: event.data.labelIds, revision });
    case 'ImageRegionsSet':
      return withLabelState({ ...current, regions: event.data.regions, revision });
    case 'ImageExcludedFromTraining':
      return { ...current, included: false, revision };
    case 'ImageIncludedInTraining':
      return { ...current, included: true, revision };
    case 'ImageSplitAssigned':
      return { ...current, split: event.data.split, revision };
    case 'ImageMetadataSet':
      return {
        ...current,
        metadata: event.data.metadata,
        metadataEntries: metadataEntries(event.data.metadata),
        revision,
      };
    case 'ImageRemoved':
      return null;
  }
}

/**
 * Images of every project (`images`) and how many images use each label (`label-stats`). Counts are kept
 * as differences between an image's labels before and after each event: label-stats documents are updated
 * before the image document, both guarded by log position, so a crash between the two repeats nothing.
 */
@ReadModelProjection()
@Injectable()
export class ImagesProjection implements Projection<ImageEvent | ProjectEvents> {
  readonly name = 'images';
  /**
   * 2: images carry labelIds, the label filter's index. 3: metadata and metadataEntries (ImageMetadataSet).
   * 4: labelSet, a multilabel image's labels (ImageLabelsSet). 5: a project's change of type moves its images'
   * labels between labelId (classification) and labelSet (multilabel); the latest labels of either kind win.
   * 6: removed labels are kept (`removed-labels`), and an image event recorded after a label's removal (a request
   * that read the project's labels before it) leaves that label out, as the removal did for the images then.
   */
  readonly version = 6;
  readonly collections = [IMAGES, LABEL_STATS, REMOVED_LABELS];
  readonly eventTypes = IMAGES_PROJECTION_EVENT_TYPES;

  async apply(event: Recorded<ImageEvent | ProjectEvents>, store: ReadStore): Promise<void> {
    const images = store.collection<ImageView>(IMAGES);
    const stats = store.collection<LabelStatsView>(LABEL_STATS);
    const removedLabels = store.collection<RemovedLabelView>(REMOVED_LABELS);
    const position = event.position;

    if (event.type === 'LabelRemoved') {
      const { projectId, labelId } = event.data;
      await removedLabels.apply(labelId, position, () => ({ id: labelId, projectId }));
      await stats.apply(labelId, position, () => null);
      const removed = new Set([labelId]);
      for (const image of await images.findAll({ projectId })) {
        if (!labelsUsedBy(image).has(labelId)) continue;
        await images.apply(image.id, position, (current) => (current ? withoutLabels(current, removed) : null));
      }
      return;
    }
    if (event.type === 'ProjectTypeChanged') {
      // Same labels, held where the new type keeps them: the counts do not change.
      const { projectId, type } = event.data;
      for (const image of await images.findAll({ projectId, labeled: true })) {
        await images.apply(image.id, position, (current) => {
          if (!current) return null;
          const labels = [...(current.labelId ? [current.labelId] : []), ...current.labelSet];
          return type === 'multilabel'
            ? withLabelState({ ...current, labelId: null, labelSet: labels })
            : type === 'classification'
              ? withLabelState({ ...current, labelId: labels[0] ?? null, labelSet: [] })
              : current;
        });
      }
      return;
    }
    if (event.type === 'ProjectDeleted') {
      const { projectId } = event.data;
      for (const image of await images.findAll({ projectId })) await images.apply(image.id, position, () => null);
      for (const label of await stats.findAll({ projectId })) await stats.apply(label.id, position, () => null);
      for (const label of await removedLabels.findAll({ projectId })) {
        await removedLabels.apply(label.id, position, () => null);
      }
      return;
    }

    const imageId = event.data.imageId;
    const current = await images.get(imageId);
    // Already applied (a repeated event): the document is at this revision of its stream or later.
    if (current && current.revision >= event.revision) return;
    const evolved = evolveImage(current, event);
    const before = labelsUsedBy(current);
    // Only labels new to the image can be removed ones: a label's removal took it off every image that had it.
    const removed = new Set<string>();
    for (const labelId of labelsUsedBy(evolved)) {
      if (!before.has(labelId) && (await removedLabels.get(labelId))) removed.add(labelId);
    }
    const next = evolved && removed.size ? withoutLabels(evolved, removed) : evolved;
    const after = labelsUsedBy(next);
    for (const labelId of before) {
      if (after.has(labelId)) continue;
      await stats.apply(labelId, position, (label) =>
        label ? { ...label, imageCount: Math.max(0, label.imageCount - 1) } : null,
      );
    }
    for (const labelId of after) {
      if (before.has(labelId)) continue;
      await stats.apply(labelId, position, (label) => ({
        id: labelId,
        projectId: event.data.projectId,
        imageCount: (label?.imageCount ?? 0) + 1,
      }));
    }
    await images.apply(imageId, position, () => next);
  }
}
