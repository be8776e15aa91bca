import { readFileSync } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Secret } from '../config/secret';
import type { SipCredentials } from './sip-gateway';

export class SipCredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SipCredentialsError';
  }
}

const E164 = /^\+[1-9]\d{1,14}$/;
// a digest username is written in a quoted-string by sip/digest without escaping: no quotes, backslashes or controls
// eslint-disable-next-line no-control-regex
const SAFE_USERNAME = /^[^"\\\u0000-\u001f\u007f]{1,256}$/;

/**
 * Validates the parsed JSON of SIP_CREDENTIALS_FILE: `{ "+17085852753": { "password": "…", "username"?: "…" } }`.
 * Reports every bad entry at once (never the password itself).
 */
export function parseCredentials(json: unknown): Map<string, SipCredentials> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SipCredentialsError('SIP credentials file: expected a JSON object keyed by E.164 phone number');
  }
  const out = new Map<string, SipCredentials>();
  const problems: string[] = [];
  for (const [phone, entry] of Object.entries(json as Record<string, unknown>)) {
    const where = JSON.stringify(phone);
    if (!E164.test(phone)) {
      problems.push(`${where}: key must be an E.164 number with a leading +`);
      continue;
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${where}: value must be an object with a "password"`);
      continue;
    }
    const { password, username } = entry as Record<string, unknown>;
    if (typeof password !== 'string' || password === '') problems.push(`${where}: "password" must be a non-empty string`);
    if (username !== undefined && (typeof username !== 'string' || !SAFE_USERNAME.test(username))) {
      problems.push(`${where}: "username" must be a non-empty string without quotes, backslashes or control characters`);
    }
    if (typeof password === 'string' && password !== '' && (username === undefined || (typeof username === 'string' && SAFE_USERNAME.test(username)))) {
      out.set(phone, { username: typeof username === 'string' ? username : phone, password: new Secret(password) });
    }
  }
  if (problems.length > 0) throw new SipCredentialsError(`Invalid SIP credentials file:\n  - ${problems.join('\n  - ')}`);
  return out;
}

export function loadCredentialsFile(path: string): Map<string, SipCredentials> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SipCredentialsError(`Cannot read SIP credentials file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SipCredentialsError(`SIP credentials file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseCredentials(json);
}

/**
 * Digest credentials per subscriber, loaded once at boot from `SIP_CREDENTIALS_FILE` (none when
 * unset). Passwords are `Secret`s: they print as `[redacted]`.
 */
@Injectable()
export class SipCredentialsProvider {
  private readonly byPhone: ReadonlyMap<string, SipCredentials>;

  constructor(config: AppConfig) {
    this.byPhone = config.sip.credentialsFile ? loadCredentialsFile(config.sip.credentialsFile) : new Map();
  }

  /** For tests and tools: a provider over an in-memory map. */
  static of(entries: Map<string, SipCredentials>): SipCredentialsProvider {
    const p = Object.create(SipCredentialsProvider.prototype) as SipCredentialsProvider;
    Object.defineProperty(p, 'byPhone', { value: entries });
    return p;
  }

  get(phoneNumber: string): SipCredentials | undefined {
    return this.byPhone.get(phoneNumber);
  }

  get size(): number {
    return this.byPhone.size;
  }
}
