import { Injectable } from '@nestjs/common';
import { BlobStore } from '@diyml/blobs';
import { DATASET_CONTENTS, type DatasetContentView } from '@diyml/datasets';
import { PENDING_CLAIMS, type PendingClaimView } from '@diyml/datasets';
import { EventStore, loadStream, type Recorded } from '@diyml/event-store';
import { EventReactor, ProjectionRunner, type Reactor, ReadStore } from '@diyml/read-store';
import { storedPredictionDecider } from '../../domain/stored-prediction.decider.js';
import { type StoredPredictionDeleted, storedPredictionStream } from '../../domain/stored-prediction.events.js';
import {
  STORED_PREDICTIONS,
  type StoredPredictionView,
} from '../../read-models/stored-predictions/stored-prediction.view.js';

const CATCH_UP_MS = 30_000;

/**
 * Deletes the image of a stored prediction once the prediction is deleted (by its owner or by retention): a
 * caller's picture is not kept longer than the prediction that holds it. Kept when the prediction was promoted
 * (the dataset owns the image then), and while anything else holds the same bytes (blobs are addressed by
 * their sha256): another stored prediction, an upload in flight, or an image of any project, even one removed since
 * (its bytes stay for the history and the reproductions of the iterations that trained on it).
 */
@EventReactor()
@Injectable()
export class PredictionImageReclaimer implements Reactor<StoredPredictionDeleted> {
  readonly name = 'stored-prediction-image-reclaimer';
  readonly eventTypes = ['StoredPredictionDeleted'] as const;

  constructor(
    private readonly events: EventStore,
    private readonly blobs: BlobStore,
    private readonly readStore: ReadStore,
    private readonly projections: ProjectionRunner,
  ) {}

  async react(recorded: Recorded<StoredPredictionDeleted>): Promise<void> {
    const { predictionId, imageSha256 } = recorded.data;
    // Seen again after a restart: nothing to do once the image is gone.
    if (!(await this.blobs.has(imageSha256))) return;
    const { state } = await loadStream(this.events, storedPredictionStream(predictionId), storedPredictionDecider);
    if (state.promotedImageId) return;
    // Every store and upload appended so far is in the read models checked below.
    await this.projections.waitFor(await this.events.headPosition(), CATCH_UP_MS);
    const held =
      (await this.readStore.collection<StoredPredictionView>(STORED_PREDICTIONS).count({ imageSha256 })) > 0 ||
      (await this.readStore.collection<DatasetContentView>(DATASET_CONTENTS).get(imageSha256)) !== undefined ||
      (await this.readStore.collection<PendingClaimView>(PENDING_CLAIMS).count({ sha256: imageSha256 })) > 0;
    if (!held) await this.blobs.delete(imageSha256);
  }
}
