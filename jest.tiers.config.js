import base from './jest.config.js';

/**
 * The test files of jest.config.js (which `npm test` runs whole) split into tiers:
 *   unit  `npm run test:unit`  specs under libs/ and apps/ that start no server or process, open no browser, reach no
 *                              PostgreSQL/Redis/MongoDB/EventStoreDB, and train or run no model;
 *   ml    `npm run test:ml`    lib specs that train or run models (tfjs, ONNX, the pretrained backbones);
 *   e2e   `npm run test:e2e`   the *.e2e-spec.ts files under test/, plus the lib specs that need a server;
 *   slow  `npm run test:slow`  files named *.slow.e2e-spec.ts (the real MobileNetV2 and the like).
 */
// maxWorkers, testTimeout, testSequencer and workerGracefulExitTimeout are options of the whole run, not of a project.
const { maxWorkers, testTimeout, testSequencer, workerGracefulExitTimeout, ...everyFile } = base;
const project = { ...everyFile, rootDir: import.meta.dirname, testMatch: undefined };

// Lib specs that are integration tests: contract suites against servers, a local HTTP server.
const needsServer = [
  '/libs/[^/]+/src/(.+/)?(postgres|bullmq|esdb|mongo|gridfs)/[^/]+(?<!\\.unit)\\.spec\\.ts$',
  '/(redis|postgres)-[^/]+\\.spec\\.ts$',
  '/libs/core/src/url-fetch/url-fetcher\\.spec\\.ts$',
];
// Lib specs that train or run models: seconds to minutes of CPU each.
const ml = [
  '/libs/ml/src/(architectures|backbones|backend|detection|inference|keras|onnx|training)/[^/]+\\.spec\\.ts$',
  // worker/: the embedding and training threads load backbones and run them.
  '/libs/training/src/(model|worker)/[^/]+\\.spec\\.ts$',
  '/libs/evaluation/src/worker/[^/]+\\.spec\\.ts$',
  '/libs/deployments/src/(inference/model-cache|slices/predict-video/video-model-thread)\\.spec\\.ts$',
];
const slow = '\\.slow\\.e2e-spec\\.ts$';

export default {
  maxWorkers,
  testTimeout,
  testSequencer,
  workerGracefulExitTimeout,
  projects: [
    {
      ...project,
      displayName: 'unit',
      testRegex: '/(libs|apps)/.+\\.spec\\.ts$',
      testPathIgnorePatterns: ['/node_modules/', ...needsServer, ...ml],
    },
    { ...project, displayName: 'ml', testRegex: ml },
    {
      ...project,
      displayName: 'e2e',
      testRegex: ['/test/.+\\.e2e-spec\\.ts$', ...needsServer],
      testPathIgnorePatterns: ['/node_modules/', slow],
    },
    { ...project, displayName: 'slow', testRegex: slow },
  ],
};
