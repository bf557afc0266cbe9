import { globSync } from 'node:fs';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The test files of vitest.config.ts split into tiers (`npm test` runs them all but the benchmark smoke run):
 *   unit  `npm run test:unit`  specs under libs/ and apps/ that start no server or process, open no browser, reach no
 *                              PostgreSQL/Redis/MongoDB/EventStoreDB, and train or run no model;
 *   ml    `npm run test:ml`    lib specs that train or run models (tfjs, ONNX, the pretrained backbones);
 *   e2e   `npm run test:e2e`   the *.e2e-spec.ts files under test/, plus the lib specs that need a server;
 *   slow  `npm run test:slow`  files named *.slow.e2e-spec.ts (the real MobileNetV2, the benchmark smoke run): minutes
 *                              of CPU each, for what a benchmark also measures or runs.
 */

// Lib specs that are integration tests: contract suites against servers, a local HTTP server.
const needsServer = [
  /^libs\/[^/]+\/src\/(.+\/)?(postgres|bullmq|esdb|mongo|gridfs)\/[^/]+(?<!\.unit)\.spec\.ts$/,
  /\/(redis|postgres)-[^/]+\.spec\.ts$/,
  /^libs\/core\/src\/url-fetch\/url-fetcher\.spec\.ts$/,
];
// Lib specs that train or run models: seconds to minutes of CPU each.
const ml = [
  /^libs\/ml\/src\/(architectures|backbones|backend|detection|inference|keras|onnx|training)\/[^/]+\.spec\.ts$/,
  // worker/: the embedding and training threads load backbones and run them.
  /^libs\/training\/src\/(model|worker)\/[^/]+\.spec\.ts$/,
  /^libs\/evaluation\/src\/worker\/[^/]+\.spec\.ts$/,
  /^libs\/deployments\/src\/(inference\/model-cache|slices\/predict-video\/video-model-thread)\.spec\.ts$/,
];
const slow = /\.slow\.e2e-spec\.ts$/;

const specs = globSync('{libs,apps}/**/*.spec.ts', { cwd: import.meta.dirname });
const e2eSpecs = globSync('test/**/*.e2e-spec.ts', { cwd: import.meta.dirname });
const matches = (patterns: RegExp[]) => (file: string) => patterns.some((pattern) => pattern.test(file));

const tiers = {
  unit: specs.filter((file) => !matches([...needsServer, ...ml])(file)),
  ml: specs.filter(matches(ml)),
  e2e: [...e2eSpecs.filter((file) => !slow.test(file)), ...specs.filter(matches(needsServer))],
  slow: e2eSpecs.filter((file) => slow.test(file)),
};

// A project extending the root configuration adds its `include` to the root's: the root includes nothing here, and
// gives the slow project back the benchmark smoke run, which `npm test` excludes.
const exclude = (base.test?.exclude ?? []).filter((pattern) => !slow.test(pattern));
export default mergeConfig(
  { ...base, test: { ...base.test, include: [], exclude } },
  defineConfig({
    test: {
      projects: Object.entries(tiers).map(([name, include]) => ({
        extends: true as const,
        test: { name, include },
      })),
    },
  }),
);
