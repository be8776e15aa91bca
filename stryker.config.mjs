// @ts-check
/**
 * Mutation testing of the core modules (issue 17, item 6): `npm run test:mutation`.
 * One module at a time: `npm run test:mutation -- --mutate src/events/delivery-policy.ts`.
 * Reports go to reports/mutation/ (gitignored); the scores per module are in the README.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const config = {
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    // The unit project of jest.config.js only: the other tiers need the lab.
    config: {
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, diagnostics: false }] },
      moduleFileExtensions: ['ts', 'js', 'json'],
      // STRYKER_SPECS (comma-separated globs) narrows the run to a module's own specs: on a loaded
      // machine that is several times faster, and the score is then a lower bound.
      testMatch: process.env.STRYKER_SPECS ? process.env.STRYKER_SPECS.split(',').map((g) => `<rootDir>/${g}`) : ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/unit/**/*.spec.ts'],
    },
    enableFindRelatedTests: true,
  },
  coverageAnalysis: 'perTest',
  // Static mutants (module-level tables) would rerun every covering spec each; on two cores that
  // is most of the run. They are reported as ignored; the tables have their own specs.
  ignoreStatic: true,
  // The machine has two shared cores.
  concurrency: 2,
  mutate: [
    'src/sessions/session-status.ts',
    'src/sip/syntax/**/*.ts',
    '!src/sip/syntax/**/*.spec.ts',
    'src/sip/sip-syntax.ts',
    'src/sip/transactions/via.ts',
    'src/sip/transactions/client-transactions.ts',
    'src/sip/transactions/server-transactions.ts',
    'src/sip/dialog.ts',
    'src/sip/sdp/media-direction.ts',
    'src/sip/sdp/sdp.parser.ts',
    'src/sip/sdp/ims-profile.ts',
    'src/sip/sdp/sdp-document.ts',
    'src/sessions/location/pidf-lo.ts',
    'src/events/delivery-policy.ts',
    'src/events/retry-schedule.ts',
    'src/events/sink-address.ts',
    'src/common/http/error-mapping.ts',
    'src/common/http/validation.pipe.ts',
  ],
  ignorePatterns: ['dist', 'coverage', 'reports', 'bench/.run', 'bench/results', 'test/.lab', 'test/artifacts'],
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  tempDirName: '.stryker-tmp',
  thresholds: { high: 90, low: 85, break: 85 },
  timeoutMS: 10000,
};
export default config;
