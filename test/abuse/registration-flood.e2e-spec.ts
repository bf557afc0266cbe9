import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { baseUrlOf, expectStayedLive, underAttack } from '../support/liveness-probe.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { send } from './raw-http.js';

/** Each registration hashes a password (argon2id, 19 MiB): seconds for a few dozen on a loaded machine. */
vi.setConfig({ testTimeout: 120_000 });

const REGISTRATIONS_PER_SOURCE = 5;
const HEALTH_BOUND_MS = 1000;
const RSS_BOUND_BYTES = 200 * 1024 * 1024;
const FLOODER = '127.0.0.8';
const NEIGHBOUR = '127.0.0.9';

/**
 * Registration is open to anyone. Before the brake, 200 registrations sent at once by one anonymous client were
 * all taken (200 accounts), and held the built api's /health for 6.5 s at load 10 per core.
 */
describe('registrations from one address (issue 17)', () => {
  let testApp: TestApp;
  let baseUrl: string;

  beforeAll(async () => {
    testApp = await startTestApp({
      settings: { REGISTRATIONS_PER_SOURCE: String(REGISTRATIONS_PER_SOURCE), REGISTRATION_WINDOW_SECONDS: '600' },
    });
    baseUrl = await baseUrlOf(testApp);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  const register = (username: string, from: string) =>
    send(baseUrl, 'POST', '/v1/auth/register', {
      body: JSON.stringify({ username, password: 'a passphrase nobody guesses' }),
      from,
    });

  it('takes REGISTRATIONS_PER_SOURCE accounts from one address, then answers 429 TOO_MANY_REGISTRATIONS with Retry-After before hashing', async () => {
    const report = await underAttack(baseUrl, () =>
      Promise.all(Array.from({ length: 60 }, (_, index) => register(`flood${index}`, FLOODER))),
    );
    expectStayedLive(report, HEALTH_BOUND_MS, RSS_BOUND_BYTES);
    const answers = report.result;
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(REGISTRATIONS_PER_SOURCE);
    const refused = answers.filter((answer) => answer.status !== 201);
    expect(new Set(refused.map((answer) => `${answer.status} ${answer.body.code}`))).toEqual(
      new Set(['429 TOO_MANY_REGISTRATIONS']),
    );
    for (const answer of refused) {
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(answer.headers['retry-after'])).toBeLessThanOrEqual(600);
      expect(answer.bytes).toBeLessThan(1024);
    }
    // A refused name was not taken: nothing was written for it.
    const refusedName = answers.findIndex((answer) => answer.status !== 201);
    const login = await send(baseUrl, 'POST', '/v1/auth/login', {
      body: JSON.stringify({ username: `flood${refusedName}`, password: 'a passphrase nobody guesses' }),
      from: NEIGHBOUR,
    });
    expect(login.status).toBe(401);

    // Another address registers as before.
    expect((await register('neighbour', NEIGHBOUR)).status).toBe(201);
  });
});
