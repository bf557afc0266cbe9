import { isDeepStrictEqual } from 'node:util';
import type { EventStore } from '@diyml/event-store';
import type { Projection } from './projection.js';
import type { ReadStore } from './read-store.port.js';

const BATCH = 5000;

export interface ReplayReport {
  events: number;
  durationMs: number;
  eventsPerSecond: number;
}

/**
 * Runs every read-model projection over the whole log into `target`, from position zero, as fast as it can.
 * Reactors (projections that own no collection, e.g. the one that turns IterationQueued into a training job)
 * are left out: a replay rebuilds read models, it must never start jobs.
 */
export async function replayAll(
  events: EventStore,
  allProjections: readonly Projection[],
  target: ReadStore,
): Promise<ReplayReport> {
  const started = performance.now();
  const projections = allProjections.filter((projection) => projection.collections.length > 0);
  const routes = projections.map((projection) => {
    const types = new Set(projection.eventTypes);
    return { projection, handles: projection.eventTypes === 'all' ? () => true : (type: string) => types.has(type) };
  });
  for (const projection of projections) {
    for (const name of projection.collections) await target.collection(name).clear();
  }
  let after = -1;
  let count = 0;
  for (;;) {
    const batch = await events.readAll({ after, limit: BATCH });
    for (const event of batch) {
      for (const route of routes) if (route.handles(event.type)) await route.projection.apply(event, target);
    }
    count += batch.length;
    if (batch.length > 0) after = batch[batch.length - 1].position;
    if (batch.length === 0) break;
  }
  for (const projection of projections) {
    await target.checkpoints.set(projection.name, { position: after, version: projection.version });
  }
  const durationMs = performance.now() - started;
  return { events: count, durationMs, eventsPerSecond: count / Math.max(durationMs / 1000, 1e-9) };
}

export interface CollectionComparison {
  collection: string;
  live: number;
  rebuilt: number;
  equal: boolean;
  /** Ids of the first documents that differ, to start looking. */
  differingIds: string[];
  /** The top-level fields that differ in the first differing document (all of them when one side lacks it). */
  differingFields: string[];
}

function differingFields(live: object | undefined, rebuilt: object | undefined): string[] {
  const fields = [...new Set([...Object.keys(live ?? {}), ...Object.keys(rebuilt ?? {})])].sort();
  return fields.filter(
    (field) =>
      !isDeepStrictEqual(
        (live as Record<string, unknown> | undefined)?.[field],
        (rebuilt as Record<string, unknown> | undefined)?.[field],
      ),
  );
}

/**
 * Documents as clients get them (JSON): a field set to undefined in memory is absent from a stored JSON document,
 * which is no difference a client could see.
 */
function asServed<T>(documents: T[]): T[] {
  return JSON.parse(JSON.stringify(documents)) as T[];
}

/** Compares every collection the projections own, document by document, as they are served. */
export async function compareReadStores(
  projections: readonly Projection[],
  live: ReadStore,
  rebuilt: ReadStore,
): Promise<CollectionComparison[]> {
  const names = [...new Set(projections.flatMap((projection) => projection.collections))].sort();
  const comparisons: CollectionComparison[] = [];
  for (const name of names) {
    const liveDocs = asServed(await live.collection(name).findAll());
    const rebuiltDocs = asServed(await rebuilt.collection(name).findAll());
    const rebuiltById = new Map(rebuiltDocs.map((document) => [document.id, document]));
    const differingIds = liveDocs
      .filter((document) => !isDeepStrictEqual(document, rebuiltById.get(document.id)))
      .map((document) => document.id);
    const liveIds = new Set(liveDocs.map((document) => document.id));
    differingIds.push(...rebuiltDocs.filter((document) => !liveIds.has(document.id)).map((document) => document.id));
    const firstId = differingIds[0];
    comparisons.push({
      collection: name,
      live: liveDocs.length,
      rebuilt: rebuiltDocs.length,
      equal: differingIds.length === 0,
      differingIds: differingIds.slice(0, 5),
      differingFields:
        firstId === undefined
          ? []
          : differingFields(
              liveDocs.find((document) => document.id === firstId),
              rebuiltById.get(firstId),
            ),
    });
  }
  return comparisons;
}
