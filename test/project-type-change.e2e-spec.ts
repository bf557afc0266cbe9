import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { colourPicture } from './support/generated-images.js';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

describe('switching a project between classification and multilabel (PATCH type)', () => {
  let testApp: TestApp;
  let client: ApiClient;

  const as = <T extends { set(name: string, value: string): T }>(request: T) =>
    request.set('Authorization', client.auth);
  const names = (image: { labels: { name: string }[] }) => image.labels.map((label) => label.name).sort();

  beforeAll(async () => {
    testApp = await startTestApp();
    client = new ApiClient(testApp, (await registerAndLogIn(testApp)).auth);
  }, 60_000);
  afterAll(async () => {
    await testApp.destroy();
  });

  it('keeps every image label across switches, and refuses classification while an image has several', async () => {
    const project = await client.createProject('classification', ['red', 'green']);
    const [red] = await client.upload(project.id, [await colourPicture(['red'], 1)], { label: 'red' });

    const multilabel = await as(client.http.patch(`/v1/projects/${project.id}`))
      .send({ type: 'multilabel' })
      .expect(200);
    expect(multilabel.body.type).toBe('multilabel');
    const image = () => as(client.http.get(`/v1/projects/${project.id}/images/${red.id}`)).expect(200);
    expect(names((await image()).body)).toEqual(['red']);
    await as(client.http.put(`/v1/projects/${project.id}/images/${red.id}/label`))
      .send({ labels: ['red', 'green'] })
      .expect(200);

    const refused = await as(client.http.patch(`/v1/projects/${project.id}`))
      .send({ type: 'classification', name: 'renamed' })
      .expect(409);
    expect(refused.body).toMatchObject({ code: 'IMAGES_HAVE_SEVERAL_LABELS', details: { imageIds: [red.id] } });
    // Nothing of the refused PATCH was kept.
    expect((await as(client.http.get(`/v1/projects/${project.id}`)).expect(200)).body).toMatchObject({
      type: 'multilabel',
      name: 'project classification',
    });

    await as(client.http.put(`/v1/projects/${project.id}/images/${red.id}/label`))
      .send({ labels: ['green'] })
      .expect(200);
    const back = await as(client.http.patch(`/v1/projects/${project.id}`))
      .send({ type: 'classification' })
      .expect(200);
    expect(back.body.type).toBe('classification');
    const single = (await image()).body;
    expect(single.label.name).toBe('green');
    expect(names(single)).toEqual(['green']);
    // Label filters and counts follow the images.
    const labels = await as(client.http.get(`/v1/projects/${project.id}/labels`)).expect(200);
    expect(
      labels.body.items.map((label: { name: string; imageCount: number }) => [label.name, label.imageCount]),
    ).toEqual([
      ['red', 0],
      ['green', 1],
    ]);
    const cleared = await as(client.http.put(`/v1/projects/${project.id}/images/${red.id}/label`))
      .send({ label: null })
      .expect(200);
    expect(cleared.body.labels).toEqual([]);
  });

  it('refuses any change to or from detection, and an unknown type', async () => {
    const detection = await client.createProject('detection', ['car']);
    const from = await as(client.http.patch(`/v1/projects/${detection.id}`))
      .send({ type: 'classification' })
      .expect(400);
    expect(from.body.code).toBe('PROJECT_TYPE_CHANGE_NOT_SUPPORTED');
    const classification = await client.createProject('classification', ['cat']);
    const to = await as(client.http.patch(`/v1/projects/${classification.id}`))
      .send({ type: 'detection' })
      .expect(400);
    expect(to.body.code).toBe('PROJECT_TYPE_CHANGE_NOT_SUPPORTED');
    const unknown = await as(client.http.patch(`/v1/projects/${classification.id}`))
      .send({ type: 'regression' })
      .expect(400);
    expect(unknown.body.message).toContain('type must be one of');
  });
});
