import { randomFillSync, randomUUID } from 'node:crypto';
import type { SipAor } from 'sip';
import type { NameAddr } from './sip-gateway';

/**
 * Pure helpers for the bits of SIP syntax the gateway writes itself: identifiers, quoted strings,
 * name-addr, header validation. Nothing here does I/O.
 */

/** RFC 3261 §8.1.1.7: branch ids start with the magic cookie and must be unique in space and time. */
export const MAGIC_COOKIE = 'z9hG4bK';

/**
 * CSPRNG bytes for branches and tags, drawn from one pooled buffer refilled with a single
 * randomFillSync() every 256 ids: one hex slice per id instead of a UUID string plus a regex
 * replace (the hot path writes two or three ids per call).
 */
const RANDOM_POOL = Buffer.alloc(4096);
let randomOffset = RANDOM_POOL.length;

function randomHex(bytes: number): string {
  if (randomOffset + bytes > RANDOM_POOL.length) {
    randomFillSync(RANDOM_POOL);
    randomOffset = 0;
  }
  const hex = RANDOM_POOL.toString('hex', randomOffset, randomOffset + bytes);
  randomOffset += bytes;
  return hex;
}

/**
 * A fresh branch for every client transaction. The `sip` package's own `generateBranch()` is
 * `z9hG4bK` + Math.random()*1e6 (about 20 bits): with thousands of concurrent transactions behind
 * one sent-by, Kamailio would match responses/CANCELs to the wrong transaction. We use 128 bits
 * from the CSPRNG (pooled, so cheap).
 */
export function generateBranch(): string {
  return MAGIC_COOKIE + randomHex(16);
}

/** RFC 3261 §19.3: tags need at least 32 bits of randomness; we use 64. */
export function generateTag(): string {
  return randomHex(8);
}

/** RFC 3261 §8.1.1.4: globally unique Call-ID. */
export function generateCallId(): string {
  return randomUUID();
}

export class SipSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SipSyntaxError';
  }
}

// C0 controls (CR, LF, NUL, TAB...) and DEL. A value containing CR/LF would let a caller inject
// headers (RFC 3261 §7.3.1 line folding is never produced by us), so anything of this class is refused.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Throws SipSyntaxError when `value` contains CR, LF, NUL or any other control character. */
export function assertHeaderValue(value: string, what: string): string {
  if (CONTROL.test(value)) throw new SipSyntaxError(`${what} contains a control character (CR/LF/NUL...)`);
  return value;
}

/** RFC 3261 §25.1 quoted-string: `"` and `\` are escaped with a backslash (quoted-pair). */
export function quoteString(value: string): string {
  assertHeaderValue(value, 'quoted-string');
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Inverse of quoteString; a token-form display name (`Alice Smith`) is returned trimmed. */
export function unquoteString(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const s = raw.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) return s.slice(1, -1).replace(/\\(.)/g, '$1');
  return s === '' ? undefined : s;
}

const URI_RE = /^(sips?|tel|urn):[^\s<>"]+$/i;

/** A URI we will put between `<` and `>`: SIP/SIPS/TEL/URN, no whitespace, quotes, angle brackets or controls. */
export function assertUri(uri: string, what: string): string {
  assertHeaderValue(uri, what);
  if (!URI_RE.test(uri)) throw new SipSyntaxError(`${what} is not a SIP/SIPS/TEL/URN URI`);
  return uri;
}

/** A name-addr as the package's stringifier wants it (`name` already quoted). */
export function toAor(addr: NameAddr, params: Record<string, string | null> = {}): SipAor {
  const aor: SipAor = { uri: assertUri(addr.uri, 'URI'), params };
  if (addr.displayName !== undefined && addr.displayName !== '') aor.name = quoteString(addr.displayName);
  return aor;
}

/** A parsed name-addr back to plain data (display name unquoted/unescaped). */
export function fromAor(aor: SipAor | undefined): NameAddr | undefined {
  if (!aor || typeof aor.uri !== 'string' || aor.uri === '') return undefined;
  const displayName = unquoteString(aor.name);
  return displayName === undefined ? { uri: aor.uri } : { uri: aor.uri, displayName };
}

/** Headers the layer writes itself: callers may not set or override them. */
const RESERVED = new Set([
  'via',
  'v',
  'from',
  'f',
  'to',
  't',
  'call-id',
  'i',
  'cseq',
  'contact',
  'm',
  'route',
  'record-route',
  'content-length',
  'l',
  'content-type',
  'c',
  'max-forwards',
  'authorization',
  'proxy-authorization',
  'www-authenticate',
  'proxy-authenticate',
]);
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/**
 * Validates extra headers given by a feature (P-Asserted-Identity, Privacy, Geolocation...):
 * names must be tokens and not one of the headers the layer owns, values free of control characters.
 * Returns them with lower-case names, ready to merge into a message.
 */
export function extraHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) throw new SipSyntaxError(`header name ${JSON.stringify(name)} is not a token`);
    const lower = name.toLowerCase();
    if (RESERVED.has(lower)) throw new SipSyntaxError(`header ${name} is set by the SIP layer`);
    if (typeof value !== 'string') throw new SipSyntaxError(`header ${name} must be a string`);
    out[lower] = assertHeaderValue(value, `header ${name}`);
  }
  return out;
}

/** The user part of a SIP URI (`sip:user@host`), undefined for other forms. */
export function uriUser(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  const m = /^sips?:([^@;?>]+)@/i.exec(uri);
  return m?.[1] ? decodeURIComponentSafe(m[1]) : undefined;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Extracts the SDP from a body: application/sdp itself, or the application/sdp part of a multipart body. */
export function sdpOf(contentType: string | undefined, content: string | undefined): string | undefined {
  if (!content || !contentType) return undefined;
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  if (type === 'application/sdp') return content;
  if (!type?.startsWith('multipart/')) return undefined;
  const b = /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = b?.[1] ?? b?.[2];
  if (!boundary) return undefined;
  for (const part of content.split(`--${boundary}`)) {
    const sep = part.indexOf('\r\n\r\n');
    if (sep < 0) continue;
    const head = part.slice(0, sep);
    if (/^content-type\s*:\s*application\/sdp/im.test(head)) return part.slice(sep + 4).replace(/\r\n$/, '');
  }
  return undefined;
}

/** A header value the package left as a string (first occurrence when repeated). */
export function headerString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** First name-addr of a P-Asserted-Identity value (RFC 3325 §9.1), display name unquoted. */
export function parseAssertedIdentity(value: string | undefined): NameAddr | undefined {
  if (!value) return undefined;
  const m = /^\s*(?:"((?:[^"\\]|\\.)*)"|([^<",]*?))\s*<([^>]+)>/.exec(value);
  if (m?.[3]) {
    const name = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]?.trim();
    return name ? { uri: m[3], displayName: name } : { uri: m[3] };
  }
  const bare = /^\s*([^\s,;<>]+)/.exec(value);
  return bare?.[1] ? { uri: bare[1] } : undefined;
}
