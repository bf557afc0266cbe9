import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { deployedTinyModel } from './support/deployed-tiny-model.js';
import { colouredSquares, RED } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

interface Entry {
  type: string;
  data: Record<string, unknown>;
  names: {
    labels: Record<string, string>;
    images: Record<string, string>;
    iterations: Record<string, number>;
    deployments: Record<string, string>;
  };
}

describe('history: what each event refers to, named as it was then', () => {
  let testApp: TestApp;
  let client: ApiClient;

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  }, 60_000);
  afterAll(async () => {
    await testApp?.destroy();
  });

  it('names labels, images, iterations and deployments on a page filtered to events that do not name them', async () => {
    const { project, iterationId, deployment } = await deployedTinyModel(client, ['red', 'blue'], 'sorter');
    const [first, second] = await client.upload(project.id, await colouredSquares(RED, 2, 7), {}, 'photo');
    const setLabel = (imageId: string, label: string) =>
      client.http
        .put(`/v1/projects/${project.id}/images/${imageId}/label`)
        .set('Authorization', client.auth)
        .send({ label })
        .expect(200);
    await setLabel(first.id!, 'blue');
    await client.http
      .patch(`/v1/projects/${project.id}/labels/${project.labels.blue}`)
      .set('Authorization', client.auth)
      .send({ name: 'navy' })
      .expect(200);
    await setLabel(second.id!, 'navy');
    await client.http
      .put(`/v1/projects/${project.id}/deployments/${deployment.id}/share`)
      .set('Authorization', client.auth)
      .send({ name: 'Colour sorter' })
      .expect(200);

    const history = await client.http
      .get(`/v1/projects/${project.id}/history`)
      .query({ type: 'ImageLabeled,DeploymentShared' })
      .set('Authorization', client.auth)
      .expect(200);
    const items = history.body.items as Entry[];
    expect(items.map((entry) => [entry.type, entry.names])).toEqual([
      // The label's name before the rename, the file name from the upload the page leaves out.
      [
        'ImageLabeled',
        {
          labels: { [project.labels.blue]: 'blue' },
          images: { [first.id!]: 'photo-0.png' },
          iterations: {},
          deployments: {},
        },
      ],
      [
        'ImageLabeled',
        {
          labels: { [project.labels.blue]: 'navy' },
          images: { [second.id!]: 'photo-1.png' },
          iterations: {},
          deployments: {},
        },
      ],
      // The deployment's name when it was created (sharing shows it under another name, which is not a rename).
      ['DeploymentShared', { labels: {}, images: {}, iterations: {}, deployments: { [deployment.id]: 'sorter' } }],
    ]);

    const deployed = await client.http
      .get(`/v1/projects/${project.id}/history`)
      .query({ type: 'ModelDeployed' })
      .set('Authorization', client.auth)
      .expect(200);
    expect((deployed.body.items as Entry[])[0].names.iterations).toEqual({ [iterationId]: 1 });
  }, 60_000);

  it('still names a label removed since, and leaves out an id no event of the project named', async () => {
    const project = await client.createProject('classification', ['cat', 'dog']);
    const [image] = await client.upload(project.id, await colouredSquares(RED, 1, 9), { label: 'cat' });
    await client.http
      .delete(`/v1/projects/${project.id}/labels/${project.labels.cat}`)
      .set('Authorization', client.auth)
      .expect(204);
    const history = await client.http
      .get(`/v1/projects/${project.id}/history`)
      .query({ type: 'ImageUploaded' })
      .set('Authorization', client.auth)
      .expect(200);
    const [uploaded] = history.body.items as Entry[];
    expect(uploaded.names).toEqual({
      labels: { [project.labels.cat]: 'cat' },
      images: { [image.id!]: 'image-0.png' },
      iterations: {},
      deployments: {},
    });
  }, 60_000);
});
