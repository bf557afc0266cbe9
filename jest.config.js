import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

// Node's on-disk compile cache for the processes this run starts after reading its configuration: the Jest workers
// and the worker threads the tests' apps start (training, test runs, embeddings), which load tfjs and the libs
// through Node (tsx for the TypeScript ones). Modules Jest loads into a test file's context are compiled by Jest and not cached. ~10% of the CPU of a
// file whose app starts threads (test/test-runs.e2e-spec.ts: 6.1 -> 5.4 CPU-s, 4 pairs at load ~16).
process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'node-compile-cache');

/**
 * Jest in native ESM mode. Files are only transpiled (by swc: TypeScript's own transpiler took a third longer per
 * suite); type checking is done once by `tsc --noEmit` in `npm test`.
 * `npm run test:jest` starts Node with --max-semi-space-size=32 (the workers inherit it): every test file compiles its
 * ~1,900 modules again, and a larger young generation cut the scavenges of that churn (about 10% of a file's CPU).
 */
export default {
  // Node's environment, sharing Node's typed arrays with the tests (onnxruntime-node's results are made there).
  testEnvironment: '<rootDir>/test/support/shared-typed-arrays-environment.mjs',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  // Relative imports name the emitted .js file; the lib package names are tsconfig.json's `paths`.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^@diyml/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
    '^@diyml/([a-z-]+)/pure$': '<rootDir>/libs/$1/src/pure.ts',
    '^@diyml/([a-z-]+)/testing$': '<rootDir>/libs/$1/src/testing/index.ts',
    '^@diyml/([a-z-]+)/testing/(.+)\\.js$': '<rootDir>/libs/$1/src/testing/$2.ts',
  },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          // Nest and class-validator read decorator metadata; fields keep TypeScript's assignment semantics.
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
          target: 'es2023',
          keepClassNames: true,
        },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  testTimeout: 30000,
  // Jest force-exits a worker that has not exited 500 ms after the run ("A worker process has failed to exit
  // gracefully"). At load ~18 the e2e tier's workers took longer than that to exit with nothing left open (no timer,
  // socket or child process in DIYML_TEST_HANDLES_LOG; none warned with 5 s), so the warning flagged slow exits as
  // leaks. With 5 s it names only a worker that something really keeps alive.
  workerGracefulExitTimeout: 5000,
  testSequencer: '<rootDir>/test/support/longest-first-sequencer.mjs',
  // A worker per core, at least 2 (e2e files spend much of their time waiting on the servers and threads they start),
  // at most one per 1.5 GiB of memory (a worker that booted the api holds 0.5-1 GiB).
  maxWorkers: Math.max(2, Math.min(availableParallelism(), Math.floor(totalmem() / (1.5 * 2 ** 30)))),
};
