import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { EventStore } from '@diyml/event-store';
import { compareReadStores, InMemoryReadStore, ProjectionRunner, ReadStore, replayAll } from '@diyml/read-store';
import { AppModule } from './app.module.js';
import { ReadOnlyAppModule, verifyReadModels } from './replay-verification.js';

/**
 * `npm run replay -- --verify`: strictly read-only (no projection catching up, no reactor, no job, no append):
 * rebuilds every read model from the log and compares (see verifyReadModels for what that proves in each mode).
 * Exit code 1 when they differ.
 * `npm run replay`: boots the app as usual, compares the live read models with a rebuild, and rewrites the live
 * ones from the rebuild when they differ.
 */
async function verify(): Promise<void> {
  const app = await NestFactory.createApplicationContext(ReadOnlyAppModule, { logger: ['error', 'warn'] });
  const report = await verifyReadModels(app);
  console.log(
    `Replayed ${report.events} events in ${report.durationMs.toFixed(0)} ms ` +
      `(${Math.round(report.events / Math.max(report.durationMs / 1000, 1e-3))} events/s), read-only: ` +
      'no event appended, no read model or checkpoint written, no job run.',
  );
  for (const comparison of report.comparisons) {
    const verdict = comparison.equal
      ? 'equal'
      : `DIFFERENT (e.g. ${comparison.differingIds.join(', ')}: ${comparison.differingFields.join(', ')})`;
    console.log(`  ${comparison.collection}: ${comparison.live} / ${comparison.rebuilt} — ${verdict}`);
  }
  console.log(report.proves);
  console.log(
    report.equal ? 'Read models equal a rebuild from the log.' : 'Read models DIFFER from a rebuild from the log.',
  );
  await app.close();
  process.exitCode = report.equal ? 0 : 1;
}

async function rebuild(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  const events = app.get(EventStore);
  const live = app.get(ReadStore);
  const projections = app.get(ProjectionRunner).discover();
  const rebuilt = new InMemoryReadStore();
  const report = await replayAll(events, projections, rebuilt);
  console.log(
    `Replayed ${report.events} events through ${projections.length} projections in ${report.durationMs.toFixed(0)} ms ` +
      `(${Math.round(report.eventsPerSecond)} events/s)`,
  );
  const comparisons = await compareReadStores(projections, live, rebuilt);
  for (const comparison of comparisons) {
    const verdict = comparison.equal
      ? 'equal'
      : `DIFFERENT (e.g. ${comparison.differingIds.join(', ')}: ${comparison.differingFields.join(', ')})`;
    console.log(`  ${comparison.collection}: live ${comparison.live}, rebuilt ${comparison.rebuilt} — ${verdict}`);
  }
  if (comparisons.every((comparison) => comparison.equal)) {
    console.log('Read models equal a rebuild from the log.');
  } else {
    await app.get(ProjectionRunner).stop();
    const rewrite = await replayAll(events, projections, live);
    console.log(`Read models differed from a rebuild from the log: rewrote them from ${rewrite.events} events.`);
  }
  await app.close();
}

(process.argv.includes('--verify') ? verify() : rebuild()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
