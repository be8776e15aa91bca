/** Three tiers (see STYLE.md): unit specs next to the code, integration and e2e against a real lab. */
const tsJest = ['ts-jest', { isolatedModules: true, diagnostics: false }];
const base = { testEnvironment: 'node', transform: { '^.+\\.ts$': tsJest }, moduleFileExtensions: ['ts', 'js', 'json'], modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'] };
module.exports = {
  // Lab-backed tiers start Kamailio/SIPp/Redis in beforeAll; unit tests never wait on the clock.
  testTimeout: 90000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/unit/**/*.spec.ts'] },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
};
