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

  it('names the ids nested in lists and objects (a suggestion run, a rejection, an accepted suggestion), at most 20 images an event', async () => {
    const { project, iterationId } = await deployedTinyModel(client, ['red', 'blue'], 'suggester');
    const uploaded = await client.upload(project.id, await colouredSquares(RED, 22, 11), {}, 'photo');
    const fileNames = Object.fromEntries(uploaded.map((image) => [image.id!, image.filename]));
    const suggestions = `/v1/projects/${project.id}/iterations/${iterationId}/suggestions`;
    const requested = await client.http
      .post(suggestions)
      .set('Authorization', client.auth)
      .send({ imageIds: uploaded.map((image) => image.id) })
      .expect(202);
    let run = requested.body as { id: string; status: string };
    for (const deadline = Date.now() + 60_000; run.status === 'requested' && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      run = (await client.http.get(`${suggestions}/runs/${run.id}`).set('Authorization', client.auth).expect(200)).body;
    }
    expect(run.status).toBe('completed');
    const [accepted, ...rejected] = uploaded.map((image) => image.id!);
    await client.http
      .post(`${suggestions}/accept`)
      .set('Authorization', client.auth)
      .send({ items: [{ imageId: accepted }] })
      .expect(200);
    await client.http
      .post(`${suggestions}/reject`)
      .set('Authorization', client.auth)
      .send({ imageIds: rejected })
      .expect(200);
    // Renamed after the run: the run's entries keep the names the labels had then.
    await client.http
      .patch(`/v1/projects/${project.id}/labels/${project.labels.red}`)
      .set('Authorization', client.auth)
      .send({ name: 'crimson' })
      .expect(200);

    const history = await client.http
      .get(`/v1/projects/${project.id}/history`)
      .query({ type: 'LabelSuggestionsRequested,LabelSuggestionsComputed,ImageLabeled,LabelSuggestionsRejected' })
      .set('Authorization', client.auth)
      .expect(200);
    const items = history.body.items as Entry[];
    expect(items.map((entry) => entry.type)).toEqual([
      'LabelSuggestionsRequested',
      'LabelSuggestionsComputed',
      'ImageLabeled',
      'LabelSuggestionsRejected',
    ]);
    const [asked, computed, labeled, rejection] = items;
    const labelNames = { [project.labels.red]: 'red', [project.labels.blue]: 'blue' };
    // The first 20 images each event lists, by the file names they were uploaded with.
    const firstTwenty = (ids: string[]) => Object.fromEntries(ids.slice(0, 20).map((id) => [id, fileNames[id]]));
    const askedFor = (asked.data.images as { imageId: string }[]).map((image) => image.imageId);
    expect(askedFor).toHaveLength(22);
    expect(asked.names).toEqual({
      labels: {},
      images: firstTwenty(askedFor),
      iterations: { [iterationId]: 1 },
      deployments: {},
    });
    const suggestedFor = (computed.data.suggestions as { imageId: string }[]).map((suggestion) => suggestion.imageId);
    expect(computed.names).toEqual({
      labels: labelNames,
      images: firstTwenty(suggestedFor),
      iterations: { [iterationId]: 1 },
      deployments: {},
    });
    // The accepted suggestion's iteration, inside the label's source.
    expect(labeled.data.source).toMatchObject({ kind: 'suggestion', iterationId });
    expect(labeled.names.images).toEqual({ [accepted]: fileNames[accepted] });
    expect(labeled.names.iterations).toEqual({ [iterationId]: 1 });
    expect(Object.values(labeled.names.labels)).toHaveLength(1);
    expect(rejection.names).toEqual({
      labels: {},
      images: firstTwenty(rejected),
      iterations: { [iterationId]: 1 },
      deployments: {},
    });
  }, 60_000);
});
