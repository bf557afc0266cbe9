import { datasetUpcasters } from '@diyml/datasets/pure';
import { IMAGE_EVENT_TYPES } from '@diyml/datasets/pure';
import { VIDEO_EVENT_TYPES } from '@diyml/datasets/pure';
import { DEPLOYMENT_EVENT_TYPES } from '@diyml/deployments/pure';
import { STORED_PREDICTION_EVENT_TYPES } from '@diyml/deployments/pure';
import { USAGE_EVENT_TYPES } from '@diyml/deployments/pure';
import { VIDEO_PREDICTION_EVENT_TYPES } from '@diyml/deployments/pure';
import { LABEL_SUGGESTIONS_EVENT_TYPES } from '@diyml/evaluation/pure';
import { TEST_RUN_EVENT_TYPES } from '@diyml/evaluation/pure';
import type { Upcaster } from '@diyml/event-store';
import { PROJECT_EVENT_TYPES } from '@diyml/projects/pure';
import { EMBEDDING_CACHE_EVENT_TYPES } from '@diyml/training/pure';
import { ITERATION_EVENT_TYPES } from '@diyml/training/pure';
import { PROJECT_IMPORT_EVENT_TYPES } from '../../domain/project-import.events.js';

/**
 * Every event type a project's streams can hold. known-events.spec.ts checks it against the event fixtures
 * (test/fixtures/events/current), which every new type or version must add.
 */
const PROJECT_STREAM_EVENT_TYPES: readonly string[] = [
  ...PROJECT_EVENT_TYPES,
  ...IMAGE_EVENT_TYPES,
  'ImageContentClaimed',
  'ImageContentReleased',
  'ImageUploadAbandoned',
  ...VIDEO_EVENT_TYPES,
  ...ITERATION_EVENT_TYPES,
  'IterationNumberReserved',
  ...EMBEDDING_CACHE_EVENT_TYPES,
  ...TEST_RUN_EVENT_TYPES,
  ...LABEL_SUGGESTIONS_EVENT_TYPES,
  ...DEPLOYMENT_EVENT_TYPES,
  ...STORED_PREDICTION_EVENT_TYPES,
  ...USAGE_EVENT_TYPES,
  ...VIDEO_PREDICTION_EVENT_TYPES,
  ...PROJECT_IMPORT_EVENT_TYPES,
];

/** The upcasters of project events: a version is readable when upcasters lead from it to the newest. */
const PROJECT_UPCASTERS: readonly Upcaster[] = datasetUpcasters;

/**
 * The newest version of each project event type this installation reads: one past its last upcaster (a new
 * version always comes with an upcaster from the one before), else 1. Versions 1 to this one are readable.
 */
export const NEWEST_EVENT_VERSIONS: ReadonlyMap<string, number> = new Map(
  PROJECT_STREAM_EVENT_TYPES.map((type) => [
    type,
    1 +
      Math.max(
        0,
        ...PROJECT_UPCASTERS.filter((upcaster) => upcaster.type === type).map((upcaster) => upcaster.fromVersion),
      ),
  ]),
);

/** `type@v` of the events this installation cannot read: a type it does not know, or a version newer than its newest. */
export function unreadableEvents(events: readonly { type: string; v: number }[]): string[] {
  const unreadable = new Set<string>();
  for (const { type, v } of events) {
    const newest = NEWEST_EVENT_VERSIONS.get(type);
    if (newest === undefined || v > newest) unreadable.add(`${type}@${v}`);
  }
  return [...unreadable].sort();
}
