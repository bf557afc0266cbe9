import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/** The OpenAPI document served at /docs-json; the console's typed client is generated from it. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
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
      )
      .build(),
  );
  markPublicOperations(document);
  return document;
}

/** Operations that name no security scheme (sign-up, login, health) say so explicitly: `security: []`. */
function markPublicOperations(document: OpenAPIObject): void {
  for (const path of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const) {
      const operation = path[method];
      if (operation && !operation.security) operation.security = [];
    }
  }
}
