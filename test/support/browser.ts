import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { consoleDirectory } from '../../apps/api/src/console/serve-console.js';
import { ApiClient } from './api-client.js';
import { startTestApp, type TestApp } from './test-app.js';
import { baseUrlOf } from './liveness-probe.js';

/** Debian's Chromium (`apt-get install chromium`); never a downloaded browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where the console specs keep their screenshots, to be looked at after a run (startConsole makes it). */
export const SCREENSHOTS = join(tmpdir(), 'diyml-console-screenshots');

/** Debian's Chromium with the flags the tests run it with, for tests that need a browser but not the api. */
export const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: FLAGS });

export interface ConsoleHarness {
  testApp: TestApp;
  baseUrl: string;
  browser: Browser;
  /** A new page at 1280×800 that records every console error, failed request and uncaught exception. */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  /** Runs axe-core on the page as it is; returns the serious and critical violations. */
  accessibilityViolations(page: Page): Promise<{ id: string; help: string; targets: string[] }[]>;
  /** What went wrong in the pages so far, except the expected ones (e.g. a 401 from a wrong password). */
  problems(expected?: RegExp[]): string[];
  close(): Promise<void>;
}

/** The real api (embedded adapters) listening on a free port and serving the built console, driven by Chromium. */
export async function startConsole(settings: Record<string, unknown> = {}): Promise<ConsoleHarness> {
  if (!existsSync(join(consoleDirectory(), 'index.html'))) {
    throw new Error('The console is not built: run `npm run build` (or `npm run build:console`) first.');
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  const testApp = await startTestApp({ settings });
  await baseUrlOf(testApp);
  const { port } = testApp.app.getHttpServer().address() as AddressInfo;
  const browser = await launchChromium();
  const seen: string[] = [];
  return {
    testApp,
    baseUrl: `http://127.0.0.1:${port}`,
    browser,
    async newPage(viewport = { width: 1280, height: 800 }) {
      // bypassCSP only so the accessibility check can inject axe-core; the app itself needs no exception.
      const context = await browser.newContext({ viewport, baseURL: `http://127.0.0.1:${port}`, bypassCSP: true });
      await context.grantPermissions(['clipboard-read', 'clipboard-write']);
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error') seen.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => seen.push(`uncaught: ${error.message}`));
      page.on('requestfailed', (request) => {
        // Aborted on purpose: a live progress stream closed when its screen is left.
        if (request.failure()?.errorText !== 'net::ERR_ABORTED')
          seen.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
      });
      return page;
    },
    async accessibilityViolations(page) {
      await page.addScriptTag({ path: AXE });
      const violations = (await page.evaluate(
        'axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)',
      )) as {
        id: string;
        help: string;
        impact: string;
        nodes: { target: string[] }[];
      }[];
      return violations
        .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
        .map((violation) => ({
          id: violation.id,
          help: violation.help,
          targets: violation.nodes.map((node) => node.target.join(' ')),
        }));
    },
    problems(expected = []) {
      return seen.filter((problem) => !expected.some((pattern) => pattern.test(problem)));
    },
    async close() {
      await browser.close();
      await testApp.destroy();
    },
  };
}

/** Signs a new user up through the console's form, as a person would; the console then shows the projects page. */
export async function signUp(page: Page, username: string, password = 'correct horse battery'): Promise<void> {
  await page.goto('/signup');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
}

/** The access token of the console's signed-in session in `page`. */
export async function sessionToken(page: Page): Promise<string> {
  const session = await page.evaluate(() => sessionStorage.getItem('diyml.session'));
  return (JSON.parse(session!) as { accessToken: string }).accessToken;
}

/** Signs up through the console and returns an API client acting as that same user, to set up data quickly. */
export async function signUpWithClient(harness: ConsoleHarness, page: Page, username: string): Promise<ApiClient> {
  await signUp(page, username);
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  return new ApiClient(harness.testApp, `Bearer ${await sessionToken(page)}`);
}
