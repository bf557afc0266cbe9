import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { SqliteEventStore, Upcasters } from '@diyml/event-store';
import { datasetUpcasters } from './image.upcasters.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../../test/fixtures/events/${name}.json`, import.meta.url), 'utf8')) as {
    streamId: string;
    type: string;
    v: number;
    data: Record<string, unknown>;
    metadata: { userId: string | null; correlationId: string; causationId: string | null; at: string };
  };

describe('image event upcasters', () => {
  it('reads stored ImageLabeled v1 and ImageRegionsSet v1 as v2, drawn by hand (source null)', async () => {
    const store = new SqliteEventStore({ filename: ':memory:', upcasters: new Upcasters(datasetUpcasters) });
    const labeled = fixture('ImageLabeled.v1');
    const regions = fixture('ImageRegionsSet.v1');
    await store.append(labeled.streamId, [{ type: labeled.type, v: labeled.v, data: labeled.data }], {
      expectedRevision: 'no_stream',
      metadata: labeled.metadata,
    });
    await store.append(regions.streamId, [{ type: regions.type, v: regions.v, data: regions.data }], {
      expectedRevision: 0,
      metadata: regions.metadata,
    });
    const [first, second] = await store.readStream(labeled.streamId);
    expect(first).toMatchObject({ type: 'ImageLabeled', v: 2, data: { ...labeled.data, source: null } });
    expect(second).toMatchObject({ type: 'ImageRegionsSet', v: 2, data: { ...regions.data, source: null } });
    await store.close();
  });
});
