import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '@diyml/event-store';
import { InMemoryReadStore, type Projection } from '@diyml/read-store/pure';
import type { StoredPredictionEvent } from '../../domain/stored-prediction.events.js';
import { StoredPredictionQueries } from './stored-prediction-queries.js';
import { StoredPredictionsProjection } from './stored-predictions.projection.js';

const metadata = { userId: null, correlationId: 'c1', causationId: null, at: '2026-06-01T10:00:00.000Z' };

function recorded(event: StoredPredictionEvent, position: number, revision = 0): RecordedEvent {
  return {
    id: randomUUID(),
    streamId: `stored-prediction-${event.data.predictionId}`,
    revision,
    position,
    type: event.type,
    v: event.v,
    data: event.data,
    metadata,
  };
}

const stored = (
  predictionId: string,
  storedAt: string,
  predictions: { label: string; probability: number }[],
): StoredPredictionEvent => ({
  type: 'PredictionStored',
  v: 1,
  data: {
    projectId: 'p1',
    deploymentId: 'd1',
    predictionId,
    iterationId: 'i1',
    imageSha256: 'a'.repeat(64),
    imageBytes: 1,
    predictions,
    callerId: null,
    storedAt,
  },
});

describe('stored predictions projection', () => {
  it('lists newest first with filters; a deleted prediction stays deleted when its events come again', async () => {
    const store = new InMemoryReadStore();
    const projection: Projection = new StoredPredictionsProjection();
    const queries = new StoredPredictionQueries(store);
    const first = stored('s1', '2026-06-01T10:00:00.000Z', [
      { label: 'cat', probability: 0.9 },
      { label: 'dog', probability: 0.1 },
    ]);
    await projection.apply(recorded(first, 1), store);
    await projection.apply(
      recorded(
        stored('s2', '2026-06-01T11:00:00.000Z', [
          { label: 'dog', probability: 0.6 },
          { label: 'cat', probability: 0.4 },
        ]),
        2,
      ),
      store,
    );
    await projection.apply(
      recorded(stored('s3', '2026-06-01T12:00:00.000Z', [{ label: 'dog', probability: 0.99 }]), 3),
      store,
    );

    const ids = async (filter: Parameters<StoredPredictionQueries['list']>[1]) =>
      (await queries.list('p1', filter, { limit: 10 })).items.map((view) => view.id);
    expect(await ids({})).toEqual(['s3', 's2', 's1']);
    expect(await ids({ order: 'oldest' })).toEqual(['s1', 's2', 's3']);
    expect(await ids({ label: () => 'cat', minProbability: 0.3 })).toEqual(['s2', 's1']);
    expect(await ids({ minProbability: 0.95 })).toEqual(['s3']);
    expect(await ids({ labelRanges: [{ label: () => 'dog', maxProbability: 0.7 }] })).toEqual(['s2', 's1']);
    // A label its iteration did not have matches none of that iteration's predictions.
    expect(await ids({ labelRanges: [{ label: () => undefined }] })).toEqual([]);
    expect(await ids({ from: '2026-06-01T11:00:00.000Z', to: '2026-06-01T12:00:00.000Z' })).toEqual(['s2']);
    const page = await queries.list('p1', {}, { limit: 2 });
    expect((await queries.list('p1', {}, { limit: 2, cursor: page.nextCursor! })).items.map((view) => view.id)).toEqual(
      ['s1'],
    );

    await projection.apply(
      recorded(
        {
          type: 'StoredPredictionDeleted',
          v: 1,
          data: {
            projectId: 'p1',
            deploymentId: 'd1',
            predictionId: 's1',
            imageSha256: 'a'.repeat(64),
            reason: 'deleted',
            deletedAt: 'x',
          },
        },
        4,
        1,
      ),
      store,
    );
    await projection.apply(recorded(first, 1), store);
    expect(await ids({})).toEqual(['s3', 's2']);
    await expect(queries.get('p1', 's1')).rejects.toMatchObject({ code: 'PREDICTION_NOT_FOUND' });
    await expect(queries.get('p2', 's2')).rejects.toMatchObject({ code: 'PREDICTION_NOT_FOUND' });
  });
});
