import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { EventStore } from '../../../libs/event-store/src/index.js';
import {
  compareReadStores,
  InMemoryReadStore,
  ProjectionRunner,
  ReadStore,
  replayAll,
} from '../../../libs/read-store/src/index.js';
import { AppModule } from './app.module.js';

/**
 * `npm run replay [-- --verify]`: rebuilds every read model from the log, from position zero, and compares
 * the result with the live read models (the ones the running system built incrementally). With --verify it
 * only compares; without, it also writes the rebuilt models into the live store when they differ.
 * Exit code 1 when they differ.
 */
async function main(): Promise<void> {
  const verifyOnly = process.argv.includes('--verify');
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  await app.init();
  const events = app.get(EventStore);
  const live = app.get(ReadStore);
  const projections = app.get(ProjectionRunner).projections;

  const rebuilt = new InMemoryReadStore();
  const report = await replayAll(events, projections, rebuilt);
  console.log(
    `Replayed ${report.events} events through ${projections.length} projections in ${report.durationMs.toFixed(0)} ms ` +
      `(${Math.round(report.eventsPerSecond)} events/s)`,
  );
  const comparisons = await compareReadStores(projections, live, rebuilt);
  for (const comparison of comparisons) {
    const verdict = comparison.equal ? 'equal' : `DIFFERENT (e.g. ${comparison.differingIds.join(', ')})`;
    console.log(`  ${comparison.collection}: live ${comparison.live}, rebuilt ${comparison.rebuilt} — ${verdict}`);
  }
  const equal = comparisons.every((comparison) => comparison.equal);
  if (!equal && !verifyOnly) {
    await app.get(ProjectionRunner).stop();
    const rewrite = await replayAll(events, projections, live);
    console.log(`Rewrote the live read models from ${rewrite.events} events.`);
  }
  console.log(equal ? 'Read models equal a rebuild from the log.' : 'Read models differ from a rebuild from the log.');
  await app.close();
  process.exitCode = equal || !verifyOnly ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
