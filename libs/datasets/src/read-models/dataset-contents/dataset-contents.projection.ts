import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore } from '@diyml/read-store/pure';
import type { ImageUploaded } from '../../domain/image.events.js';

export const DATASET_CONTENTS = 'dataset-contents';

/** Bytes (by sha256) that some dataset image was ever uploaded with, in any project. */
export interface DatasetContentView {
  /** The sha256 of the bytes. */
  id: string;
  firstProjectId: string;
  firstUploadedAt: string;
}

/**
 * Every content a dataset image ever had, removed images and deleted projects included: their bytes stay for the
 * history (the dataset as it was, reproductions of the iterations that trained on them), so nothing that deletes
 * bytes for its own reasons (a stored prediction's picture) may delete these.
 */
@ReadModelProjection()
@Injectable()
export class DatasetContentsProjection implements Projection<ImageUploaded> {
  readonly name = 'dataset-contents';
  readonly version = 1;
  readonly collections = [DATASET_CONTENTS];
  readonly eventTypes = ['ImageUploaded'] as const;

  async apply(event: Recorded<ImageUploaded>, store: ReadStore): Promise<void> {
    const { sha256, projectId } = event.data;
    await store
      .collection<DatasetContentView>(DATASET_CONTENTS)
      .apply(
        sha256,
        event.position,
        (current) => current ?? { id: sha256, firstProjectId: projectId, firstUploadedAt: event.metadata.at },
      );
  }
}
