import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { baseUrlOf, expectStayedLive, underAttack } from '../support/liveness-probe.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { prepareFlood, send } from './raw-http.js';

/** 300 argon2 checks, two at a time: seconds on a loaded machine. */
vi.setConfig({ testTimeout: 120_000 });

const SIGN_IN_MAX_WAITING = 20;
const FLOOD = 300;
const HEALTH_BOUND_MS = 1000;
const RSS_BOUND_BYTES = 200 * 1024 * 1024;
const PASSWORD = 'a passphrase nobody guesses';

/**
 * Every login hashes its password (argon2id, two at a time), even for an unknown user. Before the bound, 300 anonymous
 * logins from 300 addresses (no per-address or per-account brake applies) all queued, and a real login sent among them
 * waited ~7.5 s.
 */
describe('a flood of anonymous logins (issue 17)', () => {
  let testApp: TestApp;
  let baseUrl: string;

  beforeAll(async () => {
    testApp = await startTestApp({
      // The production hash cost: with the test run's cheap one the queue would empty before it filled.
      settings: { SIGN_IN_MAX_WAITING: String(SIGN_IN_MAX_WAITING), PASSWORD_HASH_MEMORY_KIB: '19456' },
    });
    baseUrl = await baseUrlOf(testApp);
    const registered = await send(baseUrl, 'POST', '/v1/auth/register', {
      body: JSON.stringify({ username: 'real-user', password: PASSWORD }),
    });
    expect(registered.status).toBe(201);
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('answers the sign-ins past SIGN_IN_MAX_WAITING 503 SIGN_IN_BUSY with Retry-After at once, and a real login right after succeeds', async () => {
    // One unknown account from each address (127.0.1.0 to 127.0.2.43): no failed-attempt count reaches its limit.
    const flood = await prepareFlood(
      baseUrl,
      Array.from({ length: FLOOD }, (_, index) =>
        Buffer.from(JSON.stringify({ username: `nobody-${index}`, password: PASSWORD })),
      ),
      Array.from({ length: FLOOD }, (_, index) => ({
        method: 'POST',
        path: '/v1/auth/login',
        body: index,
        from: `127.0.${1 + Math.floor(index / 256)}.${index % 256}`,
      })),
    );
    const report = await underAttack(testApp, () => flood.send());
    expectStayedLive(report, HEALTH_BOUND_MS, RSS_BOUND_BYTES);
    const answers = report.result;
    const busy = answers.filter((answer) => answer.status === 503);
    expect(new Set(answers.map((answer) => `${answer.status} ${answer.code}`))).toEqual(
      new Set(['401 INVALID_CREDENTIALS', '503 SIGN_IN_BUSY']),
    );
    console.log(
      `sign-in flood: ${busy.length} of ${FLOOD} answered 503, slowest /health ${Math.round(report.slowestHealthMs)} ms ` +
        `at load ${report.loadPerCore.toFixed(1)} per core`,
    );
    // Those waiting, and the few let in as the queue moved while the flood arrived, were checked; most came back.
    expect(busy.length).toBeGreaterThan(FLOOD / 2);
    for (const answer of busy) {
      expect(Number(answer.retryAfter)).toBeGreaterThan(0);
      expect(answer.message).toMatch(/try again in a few seconds/);
    }
    const login = await send(baseUrl, 'POST', '/v1/auth/login', {
      body: JSON.stringify({ username: 'real-user', password: PASSWORD }),
    });
    expect(login.status).toBe(200);
  });
});
