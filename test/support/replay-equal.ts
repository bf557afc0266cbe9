import { expect } from 'vitest';
import { EventStore } from '@diyml/event-store';
import { compareReadStores, InMemoryReadStore, ProjectionRunner, ReadStore, replayAll } from '@diyml/read-store';
import type { TestApp } from './test-app.js';

/**
 * What `replay --verify` checks, against the running app: its read models, built event by event as the
 * requests came, equal a rebuild from the whole log, in every collection and in the ones named (which must
 * hold documents).
 */
export async function expectReplayEqual(testApp: TestApp, collections: string[]): Promise<void> {
  // Only read models: reactors among the projections act on the running app (e.g. evict cached models).
  const projections = testApp.app
    .get(ProjectionRunner)
    .discover()
    .filter((projection) => projection.collections.length > 0);
  const events = testApp.app.get(EventStore);
  await testApp.app.get(ProjectionRunner).waitFor(await events.headPosition());
  const rebuilt = new InMemoryReadStore();
  await replayAll(events, projections, rebuilt);
  const comparisons = await compareReadStores(projections, testApp.app.get(ReadStore), rebuilt);
  expect(comparisons.filter((comparison) => !comparison.equal)).toEqual([]);
  for (const collection of collections) {
    expect(comparisons.find((comparison) => comparison.collection === collection)?.rebuilt).toBeGreaterThan(0);
  }
}
