import { expect } from 'vitest';
import type { ApiClient } from './api-client.js';
import { modelZip, tinyClassifier } from './tiny-models.js';

/** A classification project with a tiny imported model deployed: seconds instead of a training run. */
export async function deployedTinyModel(client: ApiClient, labels: string[], name = 'tiny') {
  const project = await client.createProject('classification', labels, name);
  const imported = await client.http
    .post(`/v1/projects/${project.id}/models`)
    .set('Authorization', client.auth)
    .attach('model', modelZip(await tinyClassifier(labels)), 'model.zip');
  expect(imported.status).toBe(201);
  const deployed = await client.http
    .post(`/v1/projects/${project.id}/deployments`)
    .set('Authorization', client.auth)
    .send({ iterationId: imported.body.id, name });
  expect(deployed.status).toBe(201);
  return {
    project,
    iterationId: imported.body.id as string,
    deployment: deployed.body as { id: string; apiKey: string },
  };
}
