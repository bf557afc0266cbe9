/**
 * Import boundaries between the libs (npm run lint:boundaries). A lib is used through its package name
 * (@diyml/<lib>, tsconfig.json's paths), which resolves to its index.ts or its lighter pure.ts; test helpers
 * under testing/ only from specs, e2e tests and benchmarks.
 */
const SPEC = '(\\.spec\\.ts|\\.e2e-spec\\.ts)$';
const PUBLIC_ENTRY = '^libs/[^/]+/src/(index|pure)\\.ts$';
const TESTING = '^libs/[^/]+/src/testing/';

/**
 * The libs each lib may import today (production code and its specs). Adding an edge is a design decision:
 * change it here, in review. core, the base, imports no lib outside its specs (see core-is-the-base).
 */
const ALLOWED_LIBS = {
  audit: [
    'blobs',
    'core',
    'datasets',
    'deployments',
    'evaluation',
    'event-store',
    'identity',
    'projects',
    'read-store',
    'training',
  ],
  blobs: ['core'],
  core: ['jobs'],
  'custom-vision': [
    'audit',
    'blobs',
    'core',
    'datasets',
    'deployments',
    'evaluation',
    'identity',
    'ml',
    'projects',
    'read-store',
    'training',
  ],
  datasets: ['audit', 'blobs', 'core', 'event-store', 'jobs', 'ml', 'projects', 'read-store'],
  deployments: [
    'blobs',
    'core',
    'datasets',
    'event-store',
    'identity',
    'jobs',
    'ml',
    'projects',
    'read-store',
    'training',
  ],
  evaluation: ['blobs', 'core', 'datasets', 'event-store', 'jobs', 'ml', 'projects', 'read-store', 'training'],
  'event-store': ['core'],
  identity: ['core', 'event-store', 'read-store'],
  jobs: ['core', 'event-store'],
  ml: ['core'],
  projects: ['core', 'event-store', 'ml', 'read-store'],
  'read-store': ['core', 'event-store', 'jobs'],
  training: ['blobs', 'core', 'datasets', 'deployments', 'event-store', 'jobs', 'ml', 'projects', 'read-store'],
};

module.exports = {
  forbidden: [
    ...Object.entries(ALLOWED_LIBS).map(([lib, allowed]) => ({
      name: `lib-edges-${lib}`,
      comment: `libs/${lib} imports only these libs: ${allowed.join(', ')} (.dependency-cruiser.cjs ALLOWED_LIBS)`,
      severity: 'error',
      from: { path: `^libs/${lib}/` },
      to: { path: '^libs/([^/]+)/', pathNot: `^libs/(${[lib, ...allowed].join('|')})/` },
    })),
    {
      name: 'core-is-the-base',
      comment: "libs/core imports no other lib (its specs may use other libs' test helpers)",
      severity: 'error',
      from: { path: '^libs/core/', pathNot: SPEC },
      to: { path: '^libs/(?!core/)' },
    },
    {
      name: 'no-internals-of-another-lib',
      comment:
        'import another lib by its package name (@diyml/<lib>), which is its index.ts or pure.ts: export what you need there',
      severity: 'error',
      from: { path: '^libs/([^/]+)/' },
      to: { path: '^libs/[^/]+/src/', pathNot: ['^libs/$1/', PUBLIC_ENTRY, TESTING] },
    },
    {
      name: 'no-lib-internals-from-apps-tests-benches',
      comment: 'apps, tests and benchmarks use a lib through its package name (@diyml/<lib>)',
      severity: 'error',
      from: { pathNot: '^libs/' },
      to: { path: '^libs/[^/]+/src/', pathNot: [PUBLIC_ENTRY, TESTING] },
    },
    {
      name: 'testing-only-from-tests',
      comment: 'testing/ helpers are for specs, e2e tests and benchmarks, never for product code',
      severity: 'error',
      from: { pathNot: [SPEC, '^test/', '^bench/', '/testing/'] },
      to: { path: TESTING },
    },
    {
      name: 'libs-do-not-import-apps-or-tests',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^(apps|test|bench)/' },
    },
    {
      name: 'ml-without-nest',
      comment: 'libs/ml is a plain TensorFlow.js engine: nothing it loads may load Nest (use @diyml/core/pure)',
      severity: 'error',
      from: { path: '^libs/ml/src/', pathNot: SPEC },
      to: { path: 'node_modules/@nestjs/', reachable: true },
    },
    {
      name: 'core-pure-without-nest',
      comment: '@diyml/core/pure (deciders, events, ml) loads no Nest',
      severity: 'error',
      from: { path: '^libs/core/src/pure\\.ts$' },
      to: { path: 'node_modules/@nestjs/', reachable: true },
    },
    {
      name: 'read-store-pure-without-nest-core',
      comment: '@diyml/read-store/pure (the port, the in-memory store, projections) loads @nestjs/common at most',
      severity: 'error',
      from: { path: '^libs/read-store/src/pure\\.ts$' },
      to: { path: 'node_modules/@nestjs/core/', reachable: true },
    },
    {
      name: 'pure-entries-load-no-nest-module',
      comment: "a pure.ts entry breaks import cycles between contexts: it must not load its own lib's Nest module",
      severity: 'error',
      from: { path: '^libs/([^/]+)/src/pure\\.ts$' },
      to: { path: '^libs/$1/.+\\.module\\.ts$', reachable: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to nothing (a typo, or a package that is not installed)',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|apps/console|\\.tools)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
