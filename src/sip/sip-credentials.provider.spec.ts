import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { loadConfig } from '../config/app-config';
import { parseCredentials, SipCredentialsError, SipCredentialsProvider } from './sip-credentials.provider';

describe('SipCredentialsProvider', () => {
  it('loads the file once, defaults the username to the number, wraps passwords in Secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipcred-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ '+17085852753': { password: 's3cr3t-2753' }, '+17085854000': { password: 'p', username: 'impi4000' } }));
    const p = new SipCredentialsProvider(loadConfig({ SIP_CREDENTIALS_FILE: file }));
    const c = p.get('+17085852753');
    expect(c?.username).toBe('+17085852753');
    expect(c?.password.reveal()).toBe('s3cr3t-2753');
    expect(inspect(c)).not.toContain('s3cr3t');
    expect(JSON.stringify(c)).not.toContain('s3cr3t');
    expect(p.get('+17085854000')?.username).toBe('impi4000');
    expect(p.get('+10000000000')).toBeUndefined();
  });

  it('is empty without SIP_CREDENTIALS_FILE', () => {
    expect(new SipCredentialsProvider(loadConfig({})).size).toBe(0);
  });

  it('lists every bad entry at once without echoing passwords', () => {
    let err: unknown;
    try {
      parseCredentials({ '17085852753': { password: 'leak1' }, '+1708': { password: '' }, '+1709': 'x', '+1710': { password: 'leak2', username: 'a"b' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SipCredentialsError);
    const msg = (err as Error).message;
    expect(msg).toContain('"17085852753"');
    expect(msg).toContain('"+1708"');
    expect(msg).toContain('"+1709"');
    expect(msg).toContain('"+1710"');
    expect(msg).not.toMatch(/leak/);
    expect(() => parseCredentials([])).toThrow(SipCredentialsError);
  });

  it('reports an unreadable or invalid JSON file clearly', () => {
    expect(() => new SipCredentialsProvider(loadConfig({ SIP_CREDENTIALS_FILE: '/nonexistent/x.json' }))).toThrow(/Cannot read SIP credentials file/);
    const dir = mkdtempSync(join(tmpdir(), 'sipcred-'));
    writeFileSync(join(dir, 'bad.json'), '{nope');
    expect(() => new SipCredentialsProvider(loadConfig({ SIP_CREDENTIALS_FILE: join(dir, 'bad.json') }))).toThrow(/not valid JSON/);
  });
});
