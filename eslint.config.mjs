// @ts-check
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/ (bottom to top) and what each may import. This table is the one place that
 * decides the import rules; docs/architecture.md explains them.
 *
 * - `may`: the layers (folders of src/) a file of this layer may import, besides its own folder.
 * - A feature (registrations, sessions, events) may use another feature only through the files
 *   listed in FEATURE_PORTS.
 * - observability, app.module.ts, main.ts and bootstrap.ts are the top: they may import anything.
 */
const LAYERS = {
  domain: { may: [] },
  common: { may: ['domain', 'config'] },
  config: { may: ['domain', 'common'] },
  store: { may: ['domain', 'common', 'config'] },
  sip: { may: ['domain', 'common', 'config'] },
  cluster: { may: ['domain', 'common', 'config', 'store'] },
  registrations: { may: ['domain', 'common', 'config', 'store', 'sip'] },
  sessions: { may: ['domain', 'common', 'config', 'store', 'sip', 'cluster'] },
  events: { may: ['domain', 'common', 'config', 'store', 'sip'] },
};
const TOP = ['observability', 'app.module', 'main', 'bootstrap'];

/**
 * The files through which one feature may use another (paths inside src/, no extension). A
 * feature's `*.module` is listed because Nest modules import each other to share providers.
 */
const FEATURE_PORTS = {
  registrations: ['registrations/registrations.service', 'registrations/registrations.module'],
  sessions: [],
  events: ['events/event-publisher', 'events/events.module'],
};

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// An import reaches folder X of src/ as `../X/…` (any depth) or `src/X/…` (tsconfig baseUrl).
// `./X` is a sub-folder of the importing file's own folder, so it is never another layer.
const fromSrc = '^(?:(?:\\.\\./)+|src/)';

/** no-restricted-imports patterns that forbid, to a file in src/<layer>, every layer it may not use. */
function forbiddenFor(layer) {
  const allowed = new Set([layer, ...LAYERS[layer].may]);
  const why = `src/${layer} may import only ${[...allowed].filter((l) => l !== layer).join(', ') || 'nothing outside itself'}${layer in FEATURE_PORTS ? ', and other features through their ports' : ''} (see LAYERS in eslint.config.mjs).`;
  const patterns = [];
  for (const other of Object.keys(LAYERS)) {
    if (allowed.has(other)) continue;
    const ports = layer in FEATURE_PORTS ? (FEATURE_PORTS[other] ?? []) : [];
    const exceptPorts = ports.length > 0 ? `(?!(?:${ports.map((p) => escape(p.slice(other.length + 1))).join('|')})$)` : '';
    patterns.push({ regex: `${fromSrc}${escape(other)}(?:$|/${exceptPorts})`, message: why });
  }
  for (const top of TOP) patterns.push({ regex: `${fromSrc}${escape(top)}(?:$|/)`, message: why });
  return patterns;
}

const boundaries = Object.keys(LAYERS).map((layer) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: forbiddenFor(layer) }] },
}));

// Import boundaries use the core rule (its typescript-eslint extension also sees `import x = require()`)
// rather than a plugin: every import in the code base is a relative path or `src/…`, with no path
// aliases to resolve, so a pattern per layer built from one table is exact enough and costs no
// dependency or resolver configuration.
export default defineConfig(
  { ignores: ['dist/', 'coverage/', 'node_modules/', 'bench/.run/', 'test/.lab/', '.stryker-tmp/', 'reports/', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    extends: [eslint.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Also over a union with a `default`: a new member must be placed in a case, not fall into the default unseen.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false }],
      // A rejection inside try must reach its catch (and its finally must wait for it).
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // tsc reports unused locals and parameters (noUnusedLocals, noUnusedParameters); once is enough.
      '@typescript-eslint/no-unused-vars': 'off',
      // Memory stores and fakes implement Promise-returning ports with `async` methods that need no
      // await (a throw then becomes a rejection, as with Redis). That is the point, not a slip.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/*.contract.ts', 'test/**/*.ts'],
    rules: {
      // Jest's asymmetric matchers (expect.any, expect.objectContaining…) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // expect(obj.method) and jest.spyOn hand methods around without calling them.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // A file past 400 lines has more than one reason to change (issue 10): split it by concern.
    files: ['src/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 400 }] },
  },
  {
    // The gateway logs through pino (ROOT_LOGGER): one format, redaction, correlators.
    files: ['src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.contract.ts'],
    rules: { 'no-console': 'error' },
  },
  ...boundaries,
);
