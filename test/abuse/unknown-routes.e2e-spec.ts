import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

vi.setConfig({ testTimeout: 60_000 });

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/**
 * Unknown paths are answered 404 from the OpenAPI document before Nest routes (answerUnknownRoutes): a route
 * Nest serves but the document leaves out would then be unreachable. These tests keep the two in step.
 */
describe('paths no operation serves', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
  }, 60_000);
  afterAll(async () => {
    await testApp?.destroy();
  });

  it('are answered 404 NOT_FOUND with the body Nest gives, the query kept in the message', async () => {
    const response = await testApp.http.get('/v1/no-such-route?page=2').expect(404);
    expect(response.body).toEqual({
      statusCode: 404,
      code: 'NOT_FOUND',
      message: 'Cannot GET /v1/no-such-route?page=2',
    });
    const wrongMethod = await testApp.http.delete('/health').expect(404);
    expect(wrongMethod.body.code).toBe('NOT_FOUND');
  });

  it("leave Custom Vision's paths to its own 404, in Custom Vision's error body", async () => {
    const response = await testApp.http.get('/customvision/v3.3/training/not-an-operation').expect(404);
    expect(response.body.code).toBe('NotFound');
  });

  it('include no route Nest serves: every one is an operation of the document or under /customvision', async () => {
    const document = (await testApp.http.get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      ),
    );
    const stack = (testApp.app.getHttpAdapter().getInstance() as { router: { stack: RouterLayer[] } }).router.stack;
    const served = stack.flatMap(({ route }) =>
      route ? Object.keys(route.methods).map((method) => `${method.toUpperCase()} ${route.path}`) : [],
    );
    expect(served.length).toBeGreaterThan(100);
    // Nest mounts its middleware (request logging) on `{/*splat}` for every method; Swagger UI's routes come before.
    const undocumented = served.filter(
      (route) => !documented.has(route) && !/^\S+ (\{\/\*splat\}$|\/customvision\/|\/docs)/.test(route),
    );
    expect(undocumented).toEqual([]);
  });
});
