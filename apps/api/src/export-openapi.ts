import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from './app.module.js';
import { createOpenApiDocument } from './openapi-document.js';

/**
 * `node dist/apps/api/src/export-openapi.js <file>`: writes the OpenAPI document the api serves at /docs-json,
 * without listening or starting projections (a throw-away data directory keeps the real one untouched).
 * `npm run console:openapi` generates the console's typed client from it.
 */
async function main(): Promise<void> {
  const target = process.argv[2];
  if (!target) throw new Error('Usage: export-openapi <output.json>');
  const dataDir = mkdtempSync(join(tmpdir(), 'diyml-openapi-'));
  process.env.DATA_DIR = dataDir;
  try {
    const app = await NestFactory.create(AppModule, { logger: ['error'], abortOnError: false, bodyParser: false });
    writeFileSync(target, `${JSON.stringify(createOpenApiDocument(app), null, 2)}\n`);
    await app.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
