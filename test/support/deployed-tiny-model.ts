import { expect } from 'vitest';
import type { ApiClient } from './api-client.js';
import { modelZip, tinyClassifier, tinyDetector, type TinyModelFiles } from './tiny-models.js';

/** A classification project with a tiny imported model deployed: seconds instead of a training run. */
export async function deployedTinyModel(client: ApiClient, labels: string[], name = 'tiny') {
  const project = await client.createProject('classification', labels, name);
  return { project, ...(await importAndDeploy(client, project.id, await tinyClassifier(labels), name)) };
}

/** A tiny detector imported into the detection project `projectId` and deployed as `name`. */
export async function deployTinyDetector(client: ApiClient, projectId: string, labels: string[], name: string) {
  return importAndDeploy(client, projectId, await tinyDetector(labels), name);
}

async function importAndDeploy(client: ApiClient, projectId: string, model: TinyModelFiles, name: string) {
  const imported = await client.http
    .post(`/v1/projects/${projectId}/models`)
    .set('Authorization', client.auth)
    .attach('model', modelZip(model), 'model.zip');
  expect(imported.status).toBe(201);
  const deployed = await client.http
    .post(`/v1/projects/${projectId}/deployments`)
    .set('Authorization', client.auth)
    .send({ iterationId: imported.body.id, name });
  expect(deployed.status).toBe(201);
  return {
    iterationId: imported.body.id as string,
    deployment: deployed.body as { id: string; name: string; apiKey: string; keyPrefix: string },
  };
}
