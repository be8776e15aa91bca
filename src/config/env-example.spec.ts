import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from './app-config';

describe('.env.example', () => {
  const text = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
  const names = [...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  const env = Object.fromEntries([...text.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));

  it('documents every variable the gateway reads', () => {
    const schema = readFileSync(join(__dirname, 'env.schema.ts'), 'utf8');
    const read = [...schema.matchAll(/^\s+([A-Z][A-Z0-9_]+)\?:/gm)].map((m) => m[1]!);
    expect(read.length).toBeGreaterThan(20);
    for (const name of read) expect(names).toContain(name);
  });

  it('holds only valid values', () => {
    expect(() => loadConfig(env)).not.toThrow();
  });
});
