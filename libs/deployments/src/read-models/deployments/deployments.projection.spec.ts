import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@diyml/event-store';
import { InMemoryReadStore, type Projection } from '@diyml/read-store/pure';
import type { DeploymentEvent } from '../../domain/deployment.events.js';
import { DeploymentQueries } from './deployment-queries.js';
import { DEPLOYMENTS, type DeploymentView } from './deployment.view.js';
import { DeploymentsProjection } from './deployments.projection.js';

const metadata = { userId: 'u1', correlationId: 'c1', causationId: null, at: '2026-06-01T10:00:00.000Z' };
const ids = { projectId: 'p1', deploymentId: 'd1' };
const sha = 'm'.repeat(64);

function recorded(event: DeploymentEvent, position: number, revision: number): RecordedEvent {
  return {
    id: randomUUID(),
    streamId: `deployment-${event.data.deploymentId}`,
    revision,
    position,
    type: event.type,
    v: event.v,
    data: event.data,
    metadata,
  };
}

const deployed = (deploymentId = 'd1'): DeploymentEvent => ({
  type: 'ModelDeployed',
  v: 1,
  data: {
    projectId: 'p1',
    deploymentId,
    iterationId: 'i1',
    iterationNumber: 1,
    name: 'Iteration 1',
    modelSha256: sha,
    labels: ['cat', 'dog'],
    keyHash: 'h1',
    keyPrefix: 'dpk_aaaaaa',
    deployedAt: '2026-06-01T10:00:00.000Z',
  },
});
const rotated: DeploymentEvent = {
  type: 'DeploymentKeyRotated',
  v: 1,
  data: { ...ids, keyHash: 'h2', keyPrefix: 'dpk_bbbbbb', rotatedAt: '2026-06-01T11:00:00.000Z' },
};
const undeployed: DeploymentEvent = {
  type: 'ModelUndeployed',
  v: 1,
  data: { ...ids, iterationId: 'i1', modelSha256: sha, undeployedAt: '2026-06-01T12:00:00.000Z' },
};

describe('deployments projection', () => {
  it('holds the current key hash, and marks an undeployed deployment; repeated events change nothing', async () => {
    const store = new InMemoryReadStore();
    const projection: Projection = new DeploymentsProjection();
    const queries = new DeploymentQueries(store);
    const view = () => store.collection<DeploymentView>(DEPLOYMENTS).get('d1');

    await projection.apply(recorded(deployed(), 1, 0), store);
    expect(await view()).toMatchObject({
      id: 'd1',
      status: 'active',
      keyHash: 'h1',
      keyPrefix: 'dpk_aaaaaa',
      keyRotatedAt: null,
      revision: 0,
    });

    await projection.apply(recorded(rotated, 2, 1), store);
    await projection.apply(recorded(rotated, 2, 1), store);
    expect(await view()).toMatchObject({
      keyHash: 'h2',
      keyPrefix: 'dpk_bbbbbb',
      keyRotatedAt: '2026-06-01T11:00:00.000Z',
      revision: 1,
    });

    await projection.apply(recorded(deployed('d2'), 3, 0), store);
    expect(await queries.modelInUse(sha, 'd1')).toBe(true);
    expect((await queries.list('p1', { limit: 10 })).items.map((item) => item.id)).toEqual(['d1', 'd2']);

    await projection.apply(recorded(undeployed, 4, 2), store);
    expect(await view()).toMatchObject({ status: 'undeployed', undeployedAt: '2026-06-01T12:00:00.000Z' });
    expect(await queries.findActive('d1')).toBeUndefined();
    expect((await queries.list('p1', { limit: 10 })).items.map((item) => item.id)).toEqual(['d2']);
    await expect(queries.get('p1', 'd1')).rejects.toMatchObject({ code: 'DEPLOYMENT_NOT_FOUND' });
    expect(await queries.modelInUse(sha, 'd2')).toBe(false);

    // Replaying the deployment event after the undeploy does not resurrect it.
    await projection.apply(recorded(deployed(), 1, 0), store);
    expect((await view())?.status).toBe('undeployed');
  });
});
