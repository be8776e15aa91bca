import type { SipAor, SipAorWithUri, SipAuthHeader, SipMessage, SipVia } from 'sip';
import { SipSyntaxError } from '../sip-syntax';
import { stringifyAuth, stringifyNameAddr, stringifyVia } from './header-values';
import { stringifySipUri } from './sip-uri';

/**
 * SipMessage -> bytes. Content-Length is always the UTF-8 byte length of the body (RFC 3261
 * §20.14), computed here and nowhere else. A header value containing CR or LF is refused: nothing
 * a caller passes can add a header line (RFC 3261 §7.3.1 folding is never produced).
 */

const NAMES: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  rseq: 'RSeq',
  rack: 'RAck',
  'mime-version': 'MIME-Version',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
};

/** Canonical names already computed, by lower-case name; bounded (names of passed-through headers come from peers). */
const PRETTY = new Map<string, string>(Object.entries(NAMES));
export const PRETTY_CACHE_MAX = 512;
/** How many header names the writer remembers, the built-in ones included (for the bound's test). */
export const prettyNamesKept = (): number => PRETTY.size;

function prettyName(name: string): string {
  let pretty = PRETTY.get(name);
  if (pretty === undefined) {
    pretty = name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
    if (PRETTY.size < PRETTY_CACHE_MAX) PRETTY.set(name, pretty);
  }
  return pretty;
}

function noCrLf(value: string, name: string): string {
  if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) throw new SipSyntaxError(`header ${name} contains CR or LF`);
  return value;
}

const uriText = (u: unknown): string => (typeof u === 'string' ? u : u && typeof u === 'object' ? stringifySipUri(u as Parameters<typeof stringifySipUri>[0]) : '');

/** Appends one header's lines (`Name: value` CRLF each, in wire order) to `out`. */
function appendHeader(out: string, name: string, value: unknown): string {
  if (value === undefined || value === null) return out;
  const line = (v: string): string => `${prettyName(name)}: ${noCrLf(v, name)}\r\n`;
  if (typeof value === 'string' || typeof value === 'number') return out + line(String(value));
  switch (name) {
    case 'via':
      for (const v of value as SipVia[]) out += line(stringifyVia(v));
      return out;
    case 'to':
    case 'from':
    case 'refer-to':
      return out + line(stringifyNameAddr(value as SipAor, uriText));
    case 'contact':
    case 'route':
    case 'record-route':
    case 'path': {
      const list = value as Array<SipAor | SipAorWithUri>;
      if (list.length === 0) return out;
      let joined = '';
      for (let i = 0; i < list.length; i++) joined += (i > 0 ? ', ' : '') + stringifyNameAddr(list[i] as SipAor, uriText);
      return out + line(joined);
    }
    case 'cseq': {
      const c = value as { seq: number; method: string };
      return out + line(`${c.seq} ${c.method}`);
    }
    case 'www-authenticate':
    case 'proxy-authenticate':
    case 'authorization':
    case 'proxy-authorization':
      for (const a of Array.isArray(value) ? (value as SipAuthHeader[]) : [value as SipAuthHeader]) out += line(stringifyAuth(a));
      return out;
    default:
      if (Array.isArray(value)) {
        for (const v of value) out += line(String(v));
        return out;
      }
      throw new SipSyntaxError(`header ${name} has no serialiser for its value`);
  }
}

/** Start line + header lines + Content-Length + blank line. */
export function writeHead(startLine: string, lines: Array<[string, string]>, contentLength: number): string {
  let s = `${noCrLf(startLine, 'start line')}\r\n`;
  for (const [name, value] of lines) {
    if (name === 'content-length') continue;
    s += `${prettyName(name)}: ${noCrLf(value, name)}\r\n`;
  }
  return `${s}Content-Length: ${contentLength}\r\n\r\n`;
}

/**
 * Serialises a message straight into one Buffer (head and UTF-8 body together, no concat): the
 * transport sends it with a single write. Content-Length counts the body's bytes.
 */
export function encodeMessage(m: SipMessage): Buffer {
  const content = m.content ?? '';
  const version = m.version ?? '2.0';
  const start = m.status !== undefined ? `SIP/${version} ${m.status} ${m.reason ?? ''}` : `${m.method ?? ''} ${uriText(m.uri)} SIP/${version}`;
  let head = `${noCrLf(start, 'start line')}\r\n`;
  const headers = m.headers as Record<string, unknown>;
  for (const name in headers) {
    if (name !== 'content-length') head = appendHeader(head, name, headers[name]);
  }
  return Buffer.from(`${head}Content-Length: ${content === '' ? 0 : Buffer.byteLength(content, 'utf8')}\r\n\r\n${content}`, 'utf8');
}
