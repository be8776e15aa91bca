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

function prettyName(name: string): string {
  return NAMES[name] ?? name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

function noCrLf(value: string, name: string): string {
  if (/[\r\n]/.test(value)) throw new SipSyntaxError(`header ${name} contains CR or LF`);
  return value;
}

const uriText = (u: unknown): string => (typeof u === 'string' ? u : u && typeof u === 'object' ? stringifySipUri(u as Parameters<typeof stringifySipUri>[0]) : '');

/** One header's lines: [name, value] pairs in the order they go on the wire. */
function headerLines(name: string, value: unknown): Array<[string, string]> {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string' || typeof value === 'number') return [[name, String(value)]];
  switch (name) {
    case 'via':
      return (value as SipVia[]).map((v) => [name, stringifyVia(v)]);
    case 'to':
    case 'from':
    case 'refer-to':
      return [[name, stringifyNameAddr(value as SipAor, uriText)]];
    case 'contact':
    case 'route':
    case 'record-route':
    case 'path': {
      const list = value as Array<SipAor | SipAorWithUri>;
      return list.length ? [[name, list.map((a) => stringifyNameAddr(a, uriText)).join(', ')]] : [];
    }
    case 'cseq': {
      const c = value as { seq: number; method: string };
      return [[name, `${c.seq} ${c.method}`]];
    }
    case 'www-authenticate':
    case 'proxy-authenticate':
    case 'authorization':
    case 'proxy-authorization':
      return (Array.isArray(value) ? (value as SipAuthHeader[]) : [value as SipAuthHeader]).map((a) => [name, stringifyAuth(a)]);
    default:
      if (Array.isArray(value)) return value.map((v) => [name, String(v)]);
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

/** Serialises a message; the body is UTF-8 and Content-Length counts its bytes. */
export function encodeMessage(m: SipMessage): Buffer {
  const body = m.content ? Buffer.from(m.content, 'utf8') : undefined;
  const version = m.version ?? '2.0';
  const start = m.status !== undefined ? `SIP/${version} ${m.status} ${m.reason ?? ''}` : `${m.method ?? ''} ${uriText(m.uri)} SIP/${version}`;
  const lines = Object.entries(m.headers).flatMap(([name, value]) => headerLines(name, value));
  const head = Buffer.from(writeHead(start, lines, body?.length ?? 0), 'utf8');
  return body ? Buffer.concat([head, body]) : head;
}
