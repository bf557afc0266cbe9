import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/** The OpenAPI document served at /docs-json; the console's typed client is generated from it. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('diyml')
      .setDescription(
        'Self-hosted, event-sourced machine learning: label images, train classifiers and detectors, ' +
          'evaluate, deploy behind API keys, and audit every change. Errors have the body ' +
          '`{ statusCode, code, message, details? }`.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A login JWT or a personal API token (dml_…).' })
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key' }, 'deployment-key')
      .build(),
  );
}
