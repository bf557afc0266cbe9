import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { deploymentKeyMatches, generateDeploymentKey } from './api-key.js';
import { type DeploymentCommand, deploymentDecider } from './deployment.decider.js';
import type { DeploymentEvent } from './deployment.events.js';

const now = new Date('2026-06-01T10:00:00.000Z');
const metadata = { userId: 'u1', correlationId: 'c1', now };
const spec = deciderSpecification(deploymentDecider);
const ids = { projectId: 'p1', deploymentId: 'd1' };
const completed = { id: 'i1', number: 2, status: 'completed', modelSha256: 'm'.repeat(64), labels: ['cat', 'dog'] };
const deploy: DeploymentCommand = {
  type: 'DeployModel',
  ...ids,
  iterationId: 'i1',
  iteration: completed,
  name: undefined,
  activeNames: ['staging'],
  keyHash: 'h1',
  keyPrefix: 'dpk_abcdef',
  metadata,
};
const deployed: DeploymentEvent = {
  type: 'ModelDeployed',
  v: 1,
  data: {
    ...ids,
    iterationId: 'i1',
    iterationNumber: 2,
    name: 'Iteration 2',
    modelSha256: 'm'.repeat(64),
    labels: ['cat', 'dog'],
    keyHash: 'h1',
    keyPrefix: 'dpk_abcdef',
    deployedAt: now.toISOString(),
  },
};
const undeployed: DeploymentEvent = {
  type: 'ModelUndeployed',
  v: 1,
  data: { ...ids, iterationId: 'i1', modelSha256: 'm'.repeat(64), undeployedAt: 'x' },
};

describe('deployment decider', () => {
  it('deploys a completed iteration with the key hash and a default name', () => {
    spec.given([]).when(deploy).then([deployed]);
  });

  it('keeps a given name', () => {
    spec
      .given([])
      .when({ ...deploy, name: 'production' })
      .then([{ ...deployed, data: { ...deployed.data, name: 'production' } } as DeploymentEvent]);
  });

  it('refuses a chosen name an active deployment of the project has (409), not the default name', () => {
    spec
      .given([])
      .when({ ...deploy, name: 'staging' })
      .thenThrows('DEPLOYMENT_NAME_TAKEN');
    spec
      .given([])
      .when({ ...deploy, activeNames: ['Iteration 2'] })
      .then([deployed]);
  });

  it('refuses an unknown iteration (404) and one that is not completed (409)', () => {
    spec
      .given([])
      .when({ ...deploy, iteration: null })
      .thenThrows('ITERATION_NOT_FOUND');
    spec
      .given([])
      .when({ ...deploy, iteration: { ...completed, status: 'failed', modelSha256: null } })
      .thenThrows('ITERATION_NOT_COMPLETED');
    spec
      .given([])
      .when({ ...deploy, iteration: { ...completed, status: 'running', modelSha256: null } })
      .thenThrows('ITERATION_NOT_COMPLETED');
  });

  it('refuses to deploy the same deployment id twice', () => {
    spec.given([deployed]).when(deploy).thenThrows('DEPLOYMENT_ALREADY_EXISTS');
  });

  it('rotates the key of an active deployment', () => {
    spec
      .given([deployed])
      .when({ type: 'RotateDeploymentKey', keyHash: 'h2', keyPrefix: 'dpk_zzzzzz', metadata })
      .then([
        {
          type: 'DeploymentKeyRotated',
          v: 1,
          data: { ...ids, keyHash: 'h2', keyPrefix: 'dpk_zzzzzz', rotatedAt: now.toISOString() },
        },
      ]);
  });

  it('refuses to rotate the key of an unknown or undeployed deployment', () => {
    spec
      .given([])
      .when({ type: 'RotateDeploymentKey', keyHash: 'h2', keyPrefix: 'p', metadata })
      .thenThrows('DEPLOYMENT_NOT_FOUND');
    spec
      .given([deployed, undeployed])
      .when({ type: 'RotateDeploymentKey', keyHash: 'h2', keyPrefix: 'p', metadata })
      .thenThrows('DEPLOYMENT_NOT_FOUND');
  });

  it('undeploys once, naming the model so its cache entry can go; undeploying again changes nothing', () => {
    spec
      .given([deployed])
      .when({ type: 'UndeployModel', metadata })
      .then([{ ...undeployed, data: { ...undeployed.data, undeployedAt: now.toISOString() } } as DeploymentEvent]);
    spec.given([deployed, undeployed]).when({ type: 'UndeployModel', metadata }).thenNothingHappens();
    spec.given([]).when({ type: 'UndeployModel', metadata }).thenThrows('DEPLOYMENT_NOT_FOUND');
  });
});

describe('deployment keys', () => {
  it('are long, random, and only match their own hash', () => {
    const a = generateDeploymentKey();
    const b = generateDeploymentKey();
    expect(a.key).toMatch(/^dpk_[A-Za-z0-9_-]{43}$/);
    expect(a.key).not.toBe(b.key);
    expect(a.keyPrefix).toBe(a.key.slice(0, 10));
    expect(a.keyHash).not.toContain(a.key.slice(4));
    expect(deploymentKeyMatches(a.key, a.keyHash)).toBe(true);
    expect(deploymentKeyMatches(b.key, a.keyHash)).toBe(false);
    expect(deploymentKeyMatches('', a.keyHash)).toBe(false);
  });
});

describe('deployment decider: prediction store and sharing', () => {
  const store = { enabled: true, maxCount: 100, maxAgeDays: 30 };
  const configured: DeploymentEvent = {
    type: 'PredictionStoreConfigured',
    v: 1,
    data: { ...ids, ...store, configuredAt: now.toISOString() },
  };
  const facts = {
    ownerId: 'u1',
    name: 'Fruit',
    description: 'apples and pears',
    task: 'classification' as const,
    labels: ['cat', 'dog'],
    metrics: { accuracy: 0.9, precision: 0.8, recall: 0.7, map50: null },
  };
  const shared: DeploymentEvent = {
    type: 'DeploymentShared',
    v: 1,
    data: { ...ids, ...facts, sharedAt: now.toISOString() },
  };

  it('configures the store once per change, and not on an undeployed deployment', () => {
    spec
      .given([deployed])
      .when({ type: 'ConfigurePredictionStore', ...store, metadata })
      .then([configured]);
    spec
      .given([deployed, configured])
      .when({ type: 'ConfigurePredictionStore', ...store, metadata })
      .thenNothingHappens();
    spec
      .given([deployed, undeployed])
      .when({ type: 'ConfigurePredictionStore', ...store, metadata })
      .thenThrows('DEPLOYMENT_NOT_FOUND');
  });

  it('shares with the facts users see, updates them when they change, unshares once', () => {
    spec
      .given([deployed])
      .when({ type: 'ShareDeployment', ...facts, metadata })
      .then([shared]);
    spec
      .given([deployed, shared])
      .when({ type: 'ShareDeployment', ...facts, metadata })
      .thenNothingHappens();
    spec
      .given([deployed, shared])
      .when({ type: 'ShareDeployment', ...facts, description: 'now with plums', metadata })
      .then([{ ...shared, data: { ...shared.data, description: 'now with plums' } } as DeploymentEvent]);
    spec
      .given([deployed, shared])
      .when({ type: 'ShareDeployment', ...facts, description: 'bad\u0007', metadata })
      .thenThrows('INVALID_CHARACTERS');
    spec
      .given([deployed, shared])
      .when({ type: 'UnshareDeployment', metadata })
      .then([{ type: 'DeploymentUnshared', v: 1, data: { ...ids, unsharedAt: now.toISOString() } }]);
    spec.given([deployed]).when({ type: 'UnshareDeployment', metadata }).thenNothingHappens();
    spec
      .given([deployed, shared, undeployed])
      .when({ type: 'ShareDeployment', ...facts, metadata })
      .thenThrows('DEPLOYMENT_NOT_FOUND');
  });
});
