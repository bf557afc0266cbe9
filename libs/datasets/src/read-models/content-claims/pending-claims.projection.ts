import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore } from '@diyml/read-store/pure';
import type { ImageContentEvent, ImageUploadAbandoned, ImageUploaded } from '../../domain/image.events.js';

export const PENDING_CLAIMS = 'pending-content-claims';

/** A content claim whose image was not recorded yet: an upload in flight, or one a crash interrupted. */
export interface PendingClaimView {
  /** The id of the image the claim is for. */
  id: string;
  projectId: string;
  sha256: string;
  claimedAt: string;
  /** The process whose upload made the claim (its lease name), null when the claim does not say (v1). */
  processId: string | null;
}

/**
 * Content claims not yet followed by their image's ImageUploaded nor released nor abandoned (taken over), so stale
 * ones can be found.
 */
@ReadModelProjection()
@Injectable()
export class PendingClaimsProjection implements Projection<ImageContentEvent | ImageUploaded | ImageUploadAbandoned> {
  readonly name = 'pending-content-claims';
  readonly version = 2;
  readonly collections = [PENDING_CLAIMS];
  readonly eventTypes = [
    'ImageContentClaimed',
    'ImageContentReleased',
    'ImageUploaded',
    'ImageUploadAbandoned',
  ] as const;

  async apply(
    event: Recorded<ImageContentEvent | ImageUploaded | ImageUploadAbandoned>,
    store: ReadStore,
  ): Promise<void> {
    const claims = store.collection<PendingClaimView>(PENDING_CLAIMS);
    if (event.type === 'ImageContentClaimed') {
      const { imageId, projectId, sha256, processId } = event.data;
      await claims.apply(
        imageId,
        event.position,
        (current) => current ?? { id: imageId, projectId, sha256, claimedAt: event.metadata.at, processId },
      );
      return;
    }
    // Most images never had a pending claim document (it went with their upload): nothing to delete.
    if (await claims.get(event.data.imageId)) await claims.apply(event.data.imageId, event.position, () => null);
  }
}
