import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Test } from 'supertest';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

type User = Awaited<ReturnType<typeof registerAndLogIn>>;
type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';

interface Target {
  projectId: string;
  labelId: string;
}

/** Every route under /v1/projects/{projectId}, with a body that would change something if it were allowed. */
const ROUTES: { name: string; method: Method; path: (target: Target) => string; body?: object }[] = [
  { name: 'GET project', method: 'get', path: (t) => `/v1/projects/${t.projectId}` },
  { name: 'PATCH project', method: 'patch', path: (t) => `/v1/projects/${t.projectId}`, body: { name: 'taken over' } },
  { name: 'DELETE project', method: 'delete', path: (t) => `/v1/projects/${t.projectId}` },
  { name: 'GET labels', method: 'get', path: (t) => `/v1/projects/${t.projectId}/labels` },
  { name: 'POST label', method: 'post', path: (t) => `/v1/projects/${t.projectId}/labels`, body: { name: 'intruder' } },
  {
    name: 'PATCH label',
    method: 'patch',
    path: (t) => `/v1/projects/${t.projectId}/labels/${t.labelId}`,
    body: { name: 'renamed' },
  },
  { name: 'DELETE label', method: 'delete', path: (t) => `/v1/projects/${t.projectId}/labels/${t.labelId}` },
  { name: 'GET training-config', method: 'get', path: (t) => `/v1/projects/${t.projectId}/training-config` },
  {
    name: 'PUT training-config',
    method: 'put',
    path: (t) => `/v1/projects/${t.projectId}/training-config`,
    body: { epochs: 99 },
  },
  { name: 'GET history', method: 'get', path: (t) => `/v1/projects/${t.projectId}/history` },
];

describe('project isolation: every project route, every way of not owning the project', () => {
  let testApp: TestApp;
  let owner: User;
  let intruder: User;
  let owned: Target;
  let deleted: Target;
  let intrudersOwn: Target;
  const neverExisted: Target = {
    projectId: '6f1c2b9e-3d4a-4f5b-8c7d-0e1f2a3b4c5d',
    labelId: '7a2d3c0f-4e5b-4a6c-9d8e-1f2a3b4c5d6e',
  };

  const send = (user: User, method: Method, path: string, body?: object): Test => {
    const request = testApp.http[method](path).set('Authorization', user.auth);
    return body ? request.send(body) : request;
  };

  async function createWithLabel(user: User, name: string): Promise<Target> {
    const project = await send(user, 'post', '/v1/projects', { name, type: 'classification' }).expect(201);
    const label = await send(user, 'post', `/v1/projects/${project.body.id}/labels`, { name: 'cat' }).expect(201);
    return { projectId: project.body.id, labelId: label.body.id };
  }

  /** Everything the owner can see of a project. */
  async function snapshot(target: Target) {
    const project = await send(owner, 'get', `/v1/projects/${target.projectId}`).expect(200);
    const labels = await send(owner, 'get', `/v1/projects/${target.projectId}/labels`).expect(200);
    const history = await send(owner, 'get', `/v1/projects/${target.projectId}/history`).expect(200);
    return { project: project.body, etag: project.headers.etag, labels: labels.body, history: history.body };
  }

  beforeAll(async () => {
    testApp = await startTestApp();
    owner = await registerAndLogIn(testApp);
    intruder = await registerAndLogIn(testApp);
    owned = await createWithLabel(owner, 'Owned');
    await send(owner, 'put', `/v1/projects/${owned.projectId}/training-config`, { epochs: 12 }).expect(200);
    deleted = await createWithLabel(owner, 'Deleted');
    await send(owner, 'delete', `/v1/projects/${deleted.projectId}`).expect(204);
    intrudersOwn = await createWithLabel(intruder, 'Mine');
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  describe.each(ROUTES)('$name', (route) => {
    it("is 404 PROJECT_NOT_FOUND for another user, even with the project's ETag, and changes nothing", async () => {
      const before = await snapshot(owned);
      for (const ifMatch of [undefined, before.etag, 'W/"999"']) {
        const request = send(intruder, route.method, route.path(owned), route.body);
        const response = await (ifMatch ? request.set('If-Match', ifMatch) : request);
        expect(response.status).toBe(404);
        expect(response.body).toEqual({
          statusCode: 404,
          code: 'PROJECT_NOT_FOUND',
          message: `Project ${owned.projectId} does not exist.`,
        });
        expect(response.headers.etag).toBeUndefined();
      }
      expect(await snapshot(owned)).toEqual(before);
    });

    it('is the same 404 for a project that never existed', async () => {
      const response = await send(owner, route.method, route.path(neverExisted), route.body).expect(404);
      expect(response.body).toEqual({
        statusCode: 404,
        code: 'PROJECT_NOT_FOUND',
        message: `Project ${neverExisted.projectId} does not exist.`,
      });
    });

    it('is the same 404 for the owner once the project is deleted', async () => {
      const response = await send(owner, route.method, route.path(deleted), route.body).expect(404);
      expect(response.body.code).toBe('PROJECT_NOT_FOUND');
    });

    it('is 401 without credentials', async () => {
      const request = testApp.http[route.method](route.path(owned));
      await (route.body ? request.send(route.body) : request).expect(401);
    });
  });

  it("lists never show another user's projects", async () => {
    const intruders = await send(intruder, 'get', '/v1/projects?limit=1000').expect(200);
    expect(intruders.body.items.map((project: { id: string }) => project.id)).toEqual([intrudersOwn.projectId]);
    const owners = await send(owner, 'get', '/v1/projects?limit=1000').expect(200);
    expect(owners.body.items.map((project: { id: string }) => project.id)).toEqual([owned.projectId]);
  });

  it("cannot reach another user's label through one's own project", async () => {
    const before = await snapshot(owned);
    const rename = await send(intruder, 'patch', `/v1/projects/${intrudersOwn.projectId}/labels/${owned.labelId}`, {
      name: 'x',
    }).expect(404);
    expect(rename.body.code).toBe('LABEL_NOT_FOUND');
    const removal = await send(
      intruder,
      'delete',
      `/v1/projects/${intrudersOwn.projectId}/labels/${owned.labelId}`,
    ).expect(404);
    expect(removal.body.code).toBe('LABEL_NOT_FOUND');
    expect(await snapshot(owned)).toEqual(before);
  });

  it("keeps another user's actions out of a project's history", async () => {
    const history = await send(owner, 'get', `/v1/projects/${owned.projectId}/history`).expect(200);
    expect(history.body.items.map((entry: { type: string }) => entry.type)).toEqual([
      'ProjectCreated',
      'LabelAdded',
      'TrainingConfigured',
    ]);
    expect(new Set(history.body.items.map((entry: { metadata: { userId: string } }) => entry.metadata.userId))).toEqual(
      new Set([owner.id]),
    );
  });
});
