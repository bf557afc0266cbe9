import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/support/longest-first-sequencer.js';

// Node's on-disk compile cache for the processes this run starts: the test workers and the worker threads the
// tests' apps start (training, test runs, embeddings), which load tfjs and the libs through Node.
process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'node-compile-cache');

const root = import.meta.dirname;

/**
 * Vitest, in child processes (`forks`) that each run many test files one after another with one module graph
 * (`isolate: false`): a file loads only the modules no earlier file of its worker loaded. Jest compiled the ~1,900
 * modules of an app again in every file's context, most of its CPU (Jest 730 CPU-s for the suite). Files are
 * only transpiled (swc, which also writes the decorator metadata Nest and class-validator read); type checking
 * is done once by `tsc --noEmit` in `npm test`. test/support/vitest-setup.ts gives each file the environment it
 * started with and closes the apps a file left open.
 */
export default defineConfig({
  plugins: [
    swc.vite({
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        target: 'es2023',
        keepClassNames: true,
      },
    }),
  ],
  // The lib package names are tsconfig.json's `paths`.
  resolve: {
    alias: [
      { find: /^@diyml\/([a-z-]+)\/testing\/(.+)\.js$/, replacement: `${root}/libs/$1/src/testing/$2.ts` },
      { find: /^@diyml\/([a-z-]+)\/testing$/, replacement: `${root}/libs/$1/src/testing/index.ts` },
      { find: /^@diyml\/([a-z-]+)\/pure$/, replacement: `${root}/libs/$1/src/pure.ts` },
      { find: /^@diyml\/([a-z-]+)$/, replacement: `${root}/libs/$1/src/index.ts` },
    ],
  },
  test: {
    include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts', 'test/**/*.e2e-spec.ts'],
    // The benchmark smoke run (`npm run test:slow`) runs every benchmark script, a quarter of the suite's CPU, and
    // checks the scripts, not the product: `npm test` leaves it out. The real-photos quickstart, also slow, stays.
    exclude: ['**/node_modules/**', '**/dist/**', '**/benchmarks.slow.e2e-spec.ts'],
    pool: 'forks',
    isolate: false,
    // Every worker loads the same ~1,900 modules once: a larger young generation cuts the scavenges of that churn.
    execArgv: ['--max-semi-space-size=32'],
    // A worker per core, at least 2 (e2e files spend much of their time waiting on the servers and threads they
    // start), at most one per 1.5 GiB of memory (a worker that booted the api holds 0.5-1 GiB).
    maxWorkers: Math.max(2, Math.min(availableParallelism(), Math.floor(totalmem() / (1.5 * 2 ** 30)))),
    testTimeout: 30_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    env: {
      // No test cuts the power: blobs written without fsync survive the kills and crashes the tests do, and the
      // files that upload thousands of images wait for a disk flush per image otherwise (benchmarks run so too). The
      // blob store's own spec keeps checking fsynced writes.
      BLOB_FSYNC: 'false',
      // Each register and login hashes a password: 1 MiB instead of 19 MiB of argon2id spares ~0.1 CPU-s each over
      // ~110 sign-ins. The files about the sign-in queue, which need the real cost to fill it, set the default back.
      PASSWORD_HASH_MEMORY_KIB: '1024',
    },
    setupFiles: ['test/support/vitest-setup.ts'],
    sequence: { sequencer: LongestFirstSequencer },
  },
});
