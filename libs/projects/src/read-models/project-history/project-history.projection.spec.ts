import { beforeEach, describe, expect, it } from 'vitest';
import type { EventMetadata } from '@diyml/core/pure';
import type { RecordedEvent } from '@diyml/event-store';
import { InMemoryReadStore } from '@diyml/read-store/pure';
import { defaultTrainingConfig } from '../../domain/training-config.js';
import { PROJECT_HISTORY, type ProjectHistoryEntry, ProjectHistoryProjection } from './project-history.projection.js';

const metadata: EventMetadata = {
  userId: 'u1',
  correlationId: 'c1',
  causationId: null,
  at: '2026-02-01T00:00:00.000Z',
};
let position = 0;

function recorded(event: { type: string; v: number; data: unknown }, streamId = 'project-p1'): RecordedEvent {
  position += 1;
  return { ...event, streamId, revision: 0, position, metadata } as RecordedEvent;
}

const events = {
  created: {
    type: 'ProjectCreated',
    v: 1,
    data: {
      projectId: 'p1',
      ownerId: 'u1',
      name: 'Cats',
      type: 'classification',
      description: '',
      trainingConfig: defaultTrainingConfig('classification'),
      createdAt: '2026-01-01T00:00:00.000Z',
    },
  },
};

describe('project history projection', () => {
  let store: InMemoryReadStore;
  const projection = new ProjectHistoryProjection();
  const history = () => store.collection<ProjectHistoryEntry>(PROJECT_HISTORY).findAll({ projectId: 'p1' });

  beforeEach(() => {
    store = new InMemoryReadStore();
    position = 0;
  });

  it('records every event naming the project, from any stream, and skips the others', async () => {
    await projection.apply(recorded(events.created), store);
    await projection.apply(recorded({ type: 'UserRegistered', v: 1, data: { userId: 'u1' } }, 'user-u1'), store);
    await projection.apply(
      recorded({ type: 'ImageUploaded', v: 2, data: { projectId: 'p1', imageId: 'i1' } }, 'image-i1'),
      store,
    );
    await projection.apply(
      recorded({ type: 'ImageUploaded', v: 2, data: { projectId: 'p2', imageId: 'i2' } }, 'image-i2'),
      store,
    );

    expect(await history()).toEqual([
      {
        id: '0000000000000001',
        position: 1,
        projectId: 'p1',
        stream: 'project-p1',
        type: 'ProjectCreated',
        v: 1,
        data: events.created.data,
        metadata: { userId: 'u1', correlationId: 'c1', at: '2026-02-01T00:00:00.000Z' },
      },
      {
        id: '0000000000000003',
        position: 3,
        projectId: 'p1',
        stream: 'image-i1',
        type: 'ImageUploaded',
        v: 2,
        data: { projectId: 'p1', imageId: 'i1' },
        metadata: { userId: 'u1', correlationId: 'c1', at: '2026-02-01T00:00:00.000Z' },
      },
    ]);
  });

  it('changes nothing when the same event is applied twice', async () => {
    const event = recorded(events.created);
    await projection.apply(event, store);
    await projection.apply(event, store);
    expect(await history()).toHaveLength(1);
  });

  it('never shows a secret, while hashes and ids of secrets stay visible', async () => {
    await projection.apply(
      recorded(
        {
          type: 'ModelDeployed',
          v: 1,
          data: { projectId: 'p1', apiKey: 'raw', keyHash: 'h', nested: { token: 't', tokenId: 'id' } },
        },
        'deployment-d1',
      ),
      store,
    );
    expect((await history())[0].data).toEqual({
      projectId: 'p1',
      apiKey: '[redacted]',
      keyHash: 'h',
      nested: { token: '[redacted]', tokenId: 'id' },
    });
  });
});
