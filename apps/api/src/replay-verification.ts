import { type INestApplicationContext, Module } from '@nestjs/common';
import { ReadOnlyProcessModule } from '@diyml/core';
import { EventStore } from '@diyml/event-store';
import {
  type CollectionComparison,
  compareReadStores,
  InMemoryReadStore,
  ProjectionRunner,
  ReadStore,
  replayAll,
} from '@diyml/read-store';
import { AppModule } from './app.module.js';

/** The app booted read-only: no projection catches up, no reactor or job runs, nothing is appended. */
@Module({ imports: [ReadOnlyProcessModule, AppModule] })
export class ReadOnlyAppModule {}

export interface VerificationReport {
  /** `persistent`: live read models in a database, compared with a rebuild; `embedded`: two rebuilds compared. */
  mode: 'persistent' | 'embedded';
  events: number;
  durationMs: number;
  comparisons: CollectionComparison[];
  equal: boolean;
  /** What the comparison proves, in a sentence for the operator. */
  proves: string;
}

/**
 * `replay --verify`, strictly read-only: rebuilds every read model from the log into memory and compares.
 * Where read models are persistent (MongoDB), the live ones (as of their checkpoints) are compared with the
 * rebuild: that catches drift. In the embedded mode read models live only in a running api's memory, so two
 * rebuilds from the log are compared: that proves the log reads and upcasts and projections are deterministic,
 * not that a running api's read models are right.
 */
export async function verifyReadModels(app: INestApplicationContext): Promise<VerificationReport> {
  const events = app.get(EventStore);
  const live = app.get(ReadStore);
  const projections = app.get(ProjectionRunner).discover();
  const rebuilt = new InMemoryReadStore();
  const report = await replayAll(events, projections, rebuilt);
  if (live instanceof InMemoryReadStore) {
    const again = new InMemoryReadStore();
    await replayAll(events, projections, again);
    const comparisons = await compareReadStores(projections, again, rebuilt);
    const equal = comparisons.every((comparison) => comparison.equal);
    return {
      mode: 'embedded',
      events: report.events,
      durationMs: report.durationMs,
      comparisons,
      equal,
      proves:
        'Embedded mode: read models live only in a running api, so two rebuilds from the log were compared. ' +
        (equal
          ? 'Every event reads and upcasts, and every projection applies it the same way each time; '
          : 'Two rebuilds from the same log differ: a projection is not deterministic; ') +
        'drift in a running api cannot be seen from here (use a persistent read store to check that).',
    };
  }
  const head = await events.headPosition();
  const behind: string[] = [];
  for (const projection of projections) {
    const checkpoint = await live.checkpoints.get(projection.name);
    if ((checkpoint?.position ?? -1) < head) behind.push(projection.name);
  }
  const comparisons = await compareReadStores(projections, live, rebuilt);
  const equal = comparisons.every((comparison) => comparison.equal);
  const lag = behind.length
    ? ` Note: ${behind.join(', ')} had not reached the head of the log (${head}); a running api may still be catching up.`
    : '';
  return {
    mode: 'persistent',
    events: report.events,
    durationMs: report.durationMs,
    comparisons,
    equal,
    proves:
      (equal
        ? 'The live read models equal a rebuild from the whole log.'
        : 'The live read models differ from a rebuild from the log.') + lag,
  };
}
