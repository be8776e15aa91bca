/**
 * The layer rules in eslint.config.mjs, exercised on one-line fixtures linted as if they were files
 * in src/. ESLint loads its (ESM) config with a dynamic import, which Jest's CommonJS runtime cannot
 * do, so the fixtures are linted in one child Node process. Type-aware rules are switched off there
 * (disableTypeChecked): the fixtures are not files of the TypeScript project, and the import rules
 * need no types.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const RULE = '@typescript-eslint/no-restricted-imports';

interface Fixture {
  /** Where the fixture pretends to live. */
  filePath: string;
  source: string;
}

const LINT_IN_CHILD = `
const { ESLint } = require('eslint');
const tseslint = require('typescript-eslint');
let input = '';
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', async () => {
  const eslint = new ESLint({ cwd: process.cwd(), overrideConfig: tseslint.configs.disableTypeChecked });
  const out = [];
  for (const f of JSON.parse(input)) {
    const [result] = await eslint.lintText(f.source, { filePath: f.filePath });
    out.push(result.messages.map((m) => ({ ruleId: m.ruleId, message: m.message })));
  }
  process.stdout.write(JSON.stringify(out));
});
`;

function lintAll(fixtures: Fixture[]): Array<Array<{ ruleId: string | null; message: string }>> {
  const run = spawnSync(process.execPath, ['-e', LINT_IN_CHILD], { cwd: ROOT, input: JSON.stringify(fixtures), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`eslint child failed (${run.status ?? run.signal}): ${run.stderr}`);
  return JSON.parse(run.stdout) as Array<Array<{ ruleId: string | null; message: string }>>;
}

const importing = (filePath: string, from: string): Fixture => ({ filePath, source: `import { x } from '${from}';\nexport const y = x;\n` });

const forbidden: Array<[string, Fixture]> = [
  ['store → observability', importing('src/store/x.ts', '../observability/metrics/gateway-metrics')],
  ['store (nested) → a feature', importing('src/store/redis/x.ts', '../../sessions/session-status')],
  ['store → a feature, written from the baseUrl', importing('src/store/x.ts', 'src/events/event-publisher')],
  ['sip → store', importing('src/sip/x.ts', '../store/session-store')],
  ['domain → common', importing('src/domain/x.ts', '../common/clock')],
  ['common → app.module', importing('src/common/http/x.ts', '../../app.module')],
  ['registrations → observability', importing('src/registrations/x.ts', '../observability/metrics/gateway-metrics')],
  ['sessions → a file of events that is not its port', importing('src/sessions/x.ts', '../events/delivery-worker')],
  ['events → a file of sessions (no ports)', importing('src/events/x.ts', '../sessions/sessions.service')],
];

const allowed: Array<[string, Fixture]> = [
  ['store → domain', importing('src/store/x.ts', '../domain/dialog-state')],
  ['store → common, config', { filePath: 'src/store/redis/x.ts', source: "import { a } from '../../common/clock';\nimport { b } from '../../config/app-config';\nexport const y = [a, b];\n" }],
  ['sip → domain and its own files', { filePath: 'src/sip/x.ts', source: "import { a } from '../domain/dialog-state';\nimport { b } from './sdp/sdp.parser';\nexport const y = [a, b];\n" }],
  ['sessions → store, sip', { filePath: 'src/sessions/x.ts', source: "import { a } from '../store/session-store';\nimport { b } from '../sip/sip-gateway';\nexport const y = [a, b];\n" }],
  ['sessions → the events port', importing('src/sessions/x.ts', '../events/event-publisher')],
  ['sessions → the registrations port', importing('src/sessions/x.ts', '../registrations/registrations.service')],
  ['observability → anything', importing('src/observability/x.ts', '../sessions/call-telemetry')],
  ['app.module → anything', importing('src/app.module.ts', './sessions/sessions.module')],
];

describe('import boundaries (eslint.config.mjs)', () => {
  let results: ReturnType<typeof lintAll>;

  beforeAll(() => {
    results = lintAll([...forbidden, ...allowed].map(([, f]) => f));
  }, 60_000);

  it.each(forbidden.map(([name, f], i) => [name, f, i] as const))('reports %s', (_name, _fixture, i) => {
    const messages = results[i] ?? [];
    expect(messages.map((m) => m.ruleId)).toEqual([RULE]);
    expect(messages[0]?.message).toMatch(/may import only .* \(see LAYERS in eslint\.config\.mjs\)/);
  });

  it.each(allowed.map(([name, f], i) => [name, f, forbidden.length + i] as const))('accepts %s', (_name, _fixture, i) => {
    expect(results[i]).toEqual([]);
  });
});
