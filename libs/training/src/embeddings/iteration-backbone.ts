import type { BlobStore } from '@diyml/blobs';
import { isDomainError } from '@diyml/core/pure';
import { BackboneError, type BackboneDescriptor, describeImportedBackbone } from '@diyml/ml';
import type { BackboneCatalog } from '@diyml/projects';
import type { IterationQueued } from '../domain/iteration.events.js';
import { unpackModel } from '../model/model-archive.js';

/**
 * The backbone an iteration trained on: the registered one its configuration names, or the model of the iteration it
 * built on. Null when that backbone is no longer registered or cannot be described.
 */
export async function iterationBackbone(
  queued: IterationQueued['data'],
  blobs: BlobStore,
  backbones: BackboneCatalog,
): Promise<BackboneDescriptor | null> {
  try {
    return queued.baseModelSha256
      ? await describeImportedBackbone(
          `model-${queued.baseModelSha256.slice(0, 12)}`,
          unpackModel(await blobs.get(queued.baseModelSha256)),
        )
      : backbones.describe(queued.trainingConfig.backbone ?? null);
  } catch (error) {
    if (error instanceof BackboneError || isDomainError(error, 'UNKNOWN_BACKBONE')) return null;
    throw error;
  }
}
