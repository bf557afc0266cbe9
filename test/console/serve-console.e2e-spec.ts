import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { consoleDirectory } from '../../apps/api/src/console/serve-console.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('the api serves the built console', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    if (!existsSync(join(consoleDirectory(), 'index.html')))
      throw new Error('Run `npm run build` first: the console is not built.');
    testApp = await startTestApp();
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('answers index.html at / and at client routes, without inline scripts', async () => {
    for (const path of ['/', '/projects/0b6f2c1e-1111-4222-8333-944455556666/train', '/login']) {
      const response = await testApp.http.get(path).set('Accept', 'text/html,application/xhtml+xml').expect(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.text).toContain('<div id="root"></div>');
      expect(response.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
  });

  it('serves the hashed bundle cacheable for good', async () => {
    const bundle = readdirSync(join(consoleDirectory(), 'assets')).find((name) => name.endsWith('.js'))!;
    const response = await testApp.http.get(`/assets/${bundle}`).expect(200);
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('leaves the API, Swagger, health and Custom Vision routes to the api, even for a browser', async () => {
    const html = 'text/html,application/xhtml+xml';
    const missing = await testApp.http.get('/v1/nothing-here').set('Accept', html).expect(404);
    expect(missing.body.code).toBeTruthy();
    await testApp.http.get('/v1/projects').set('Accept', html).expect(401);
    expect((await testApp.http.get('/docs-json').expect(200)).body.info.title).toBe('diyml');
    expect((await testApp.http.get('/docs/').set('Accept', html).expect(200)).text).toContain('swagger');
    expect((await testApp.http.get('/health').set('Accept', html).expect(200)).body.status).toBe('ok');
    await testApp.http.get('/customvision/v3.3/training/projects').set('Accept', html).expect(401);
    await testApp.http.get('/favicon.ico').set('Accept', 'image/*').expect(404);
  });
});
