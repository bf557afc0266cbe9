import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestApp, type TestApp } from './support/test-app.js';

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, { example?: { code?: string } }> }>;
}
type OpenApiDocument = {
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown> };
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const operationsOf = (document: OpenApiDocument) =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })),
  );

describe('the OpenAPI document (the API contract)', () => {
  let testApp: TestApp;
  let document: OpenApiDocument;

  beforeAll(async () => {
    testApp = await startTestApp();
    document = (await testApp.http.get('/docs-json').expect(200)).body;
  });
  afterAll(() => testApp.destroy());

  it('names every operation readably and once: camelCase verbs, Custom Vision operations by their Azure names', () => {
    const ids = operationsOf(document).map(({ route, operation }) => ({ route, id: operation.operationId ?? '' }));
    const unreadable = ids.filter(({ id }) => !/^(?:[a-z][A-Za-z0-9]*|CustomVision_[A-Z][A-Za-z0-9]*)$/.test(id));
    expect(unreadable).toEqual([]);
    expect(new Set(ids.map(({ id }) => id)).size).toBe(ids.length);
  });

  it('defines every security scheme an operation names, so each route can be tried in Swagger UI', () => {
    const named = new Set(
      operationsOf(document).flatMap(({ operation }) => (operation.security ?? []).flatMap(Object.keys)),
    );
    expect([...named].filter((scheme) => !(scheme in document.components.securitySchemes))).toEqual([]);
    expect(named).toEqual(new Set(['bearer', 'deployment-key', 'training-key', 'prediction-key']));
  });

  it('shows each error status with an example of its own code, not one example for all', () => {
    const examples = new Map<string, Set<string | undefined>>();
    for (const { operation } of operationsOf(document)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!/^4\d\d$/.test(status)) continue;
        const code = response.content?.['application/json']?.example?.code;
        if (code) examples.set(status, (examples.get(status) ?? new Set()).add(code));
      }
    }
    expect(examples.get('400')).toEqual(new Set(['VALIDATION_FAILED']));
    expect(examples.get('404')).toEqual(new Set(['PROJECT_NOT_FOUND']));
    expect(examples.get('412')).toEqual(new Set(['REVISION_MISMATCH']));
  });

  it('passes Redocly lint with no errors', async () => {
    const file = join(testApp.dataDir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    const redocly = join(process.cwd(), 'node_modules', '.bin', 'redocly');
    const lint = await promisify(execFile)(redocly, ['lint', file, '--format=json'], {
      maxBuffer: 64 * 1024 * 1024,
    }).catch((failure: { stdout: string }) => failure);
    const report = JSON.parse(lint.stdout) as {
      totals: { errors: number };
      problems: { severity: string; message: string }[];
    };
    expect(report.problems.filter((problem) => problem.severity === 'error').map((problem) => problem.message)).toEqual(
      [],
    );
    expect(report.totals.errors).toBe(0);
  });

  it("is the document the console's typed client was generated from (rerun `npm run console:openapi` after an API change)", () => {
    const committed = JSON.parse(readFileSync('apps/console/src/api/openapi.json', 'utf8'));
    expect(committed).toEqual(document);
  });
});
