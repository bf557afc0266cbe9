/** Jest in native ESM mode; type checking is done once by `tsc --noEmit` in `npm test`. */
export default {
  // Node's environment, sharing Node's typed arrays with the tests (onnxruntime-node's results are made there).
  testEnvironment: '<rootDir>/test/support/shared-typed-arrays-environment.mjs',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 30000,
  maxWorkers: 2,
};
