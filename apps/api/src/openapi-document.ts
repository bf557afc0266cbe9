import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, type OperationObject, SwaggerModule } from '@nestjs/swagger';

/** The tags in the order Swagger UI lists them, each with what its operations are for. */
const TAGS: [name: string, description: string][] = [
  ['auth', 'Sign up and log in: a JWT for the `Authorization: Bearer` header.'],
  ['users', 'You, and your personal API tokens (dml_…): bearer tokens that do not expire until revoked.'],
  ['projects', 'Projects: a classification or object detection task, its labels and training configuration.'],
  ['labels', "A project's labels (classes): what images are labeled with."],
  ['training configuration', 'How a project trains: settings, architectures and the pretrained backbones.'],
  ['images', 'Upload, import, label, split and inspect the images of a project; its readiness for training.'],
  ['training', 'Iterations: train in the background, follow progress, read metrics, download or import models.'],
  ['evaluation', 'Test an iteration on new labeled images; label suggestions from a trained iteration.'],
  ['deployments', 'Deploy an iteration behind an API key.'],
  ['predictions', "Predict with a deployment's key (`X-Api-Key`): images and videos."],
  [
    'stored predictions',
    "A deployment's prediction store: the images it predicted, to review and promote to training.",
  ],
  ['shared models', 'Deployments their owners share with the other users of this installation.'],
  ['usage', 'Prediction counts and latencies per deployment.'],
  ['audit', "A project's history of events, and export and import of whole projects."],
  [
    'custom-vision training',
    'The Azure Custom Vision Training API (v3.0 to v3.4-preview) for its SDKs: `Training-Key`.',
  ],
  ['custom-vision prediction', 'The Azure Custom Vision Prediction API (v3.0, v3.1) for its SDKs: `Prediction-Key`.'],
  ['health', 'Liveness and readiness of this installation.'],
];

/** What a path parameter names, wherever it appears (the routes validate the ids; this says whose they are). */
const PATH_PARAMETERS: Record<string, string> = {
  projectId: 'The project (its id).',
  iterationId: 'The iteration of the project (its id).',
  imageId: 'The image (its id).',
  labelId: 'The label of the project (its id).',
  deploymentId: 'The deployment (its id).',
  testRunId: 'The test run of the iteration (its id).',
  predictionId: 'The stored prediction (its id).',
  runId: 'The label suggestion run (its id).',
  videoId: 'The video (its id).',
  videoPredictionId: 'The video prediction (its id, from the 202 that started it).',
  importId: 'The project import (its id, from the 202 that started it).',
  tokenId: 'The personal API token (its id).',
  version: 'The Custom Vision API version the client speaks.',
  tagId: 'The tag: a label of the project (its id).',
  domainId: 'The domain (its id, as GetDomains lists them).',
  publishedName: 'The name the iteration is published under.',
};

/** The OpenAPI document served at /docs-json; the console's typed client is generated from it. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('diyml')
    .setDescription(
      'Self-hosted, event-sourced machine learning: label images, train classifiers and detectors, ' +
        'evaluate, deploy behind API keys, and audit every change. Errors have the body ' +
        '`{ statusCode, code, message, details? }`.',
    )
    .setVersion('1')
    .setLicense('MIT', 'https://opensource.org/license/mit')
    .addServer('/', 'This installation')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A login JWT or a personal API token (dml_…).' })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key' }, 'deployment-key')
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'Training-Key',
        description: 'Custom Vision Training API: a personal API token.',
      },
      'training-key',
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'Prediction-Key',
        description: "Custom Vision Prediction API: a deployment's key.",
      },
      'prediction-key',
    );
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build());
  markPublicOperations(document);
  describePathParameters(document);
  return document;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

function operationsOf(document: OpenAPIObject): OperationObject[] {
  return Object.values(document.paths).flatMap((path) => METHODS.flatMap((method) => path[method] ?? []));
}

/** Operations that name no security scheme (sign-up, login, health) say so explicitly: `security: []`. */
function markPublicOperations(document: OpenAPIObject): void {
  for (const operation of operationsOf(document)) operation.security ??= [];
}

/** Path parameters a route documents no description for get the one their name has in PATH_PARAMETERS. */
function describePathParameters(document: OpenAPIObject): void {
  for (const operation of operationsOf(document)) {
    for (const parameter of operation.parameters ?? []) {
      if ('$ref' in parameter || parameter.in !== 'path' || parameter.description) continue;
      const description = PATH_PARAMETERS[parameter.name];
      if (description) parameter.description = description;
    }
  }
}
