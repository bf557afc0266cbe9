import base from './jest.config.js';

/**
 * The test files of jest.config.js (which `npm test` runs whole) split into tiers:
 *   unit  `npm run test:unit`  specs under libs/ and apps/ that start no server or process, open no browser, reach no
 *                              PostgreSQL/Redis/MongoDB/EventStoreDB and load no real pretrained backbone;
 *   e2e   `npm run test:e2e`   the *.e2e-spec.ts files under test/, plus the lib specs that need one of those;
 *   slow  `npm run test:slow`  files named *.slow.e2e-spec.ts (the real MobileNetV2 and the like).
 */
// maxWorkers and testTimeout are options of the whole run, not of a project.
const { maxWorkers, testTimeout, ...everyFile } = base;
const project = { ...everyFile, rootDir: import.meta.dirname, testMatch: undefined };

// Lib specs that are integration tests: contract suites against servers, local HTTP servers, real backbones.
const needsServer = [
  '/libs/[^/]+/src/(.+/)?(postgres|bullmq|esdb|mongo|gridfs)/[^/]+(?<!\\.unit)\\.spec\\.ts$',
  '/(redis|postgres)-[^/]+\\.spec\\.ts$',
  '/libs/core/src/url-fetch/url-fetcher\\.spec\\.ts$',
  '/libs/ml/src/backbones/backbones\\.spec\\.ts$',
  '/libs/ml/src/onnx/layers-to-onnx\\.converter\\.spec\\.ts$',
];
const slow = '\\.slow\\.e2e-spec\\.ts$';

export default {
  maxWorkers,
  testTimeout,
  projects: [
    {
      ...project,
      displayName: 'unit',
      testRegex: '/(libs|apps)/.+\\.spec\\.ts$',
      testPathIgnorePatterns: ['/node_modules/', ...needsServer],
    },
    {
      ...project,
      displayName: 'e2e',
      testRegex: ['/test/.+\\.e2e-spec\\.ts$', ...needsServer],
      testPathIgnorePatterns: ['/node_modules/', slow],
    },
    { ...project, displayName: 'slow', testRegex: slow },
  ],
};
