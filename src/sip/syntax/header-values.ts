import type { SipAor, SipAuthHeader, SipCSeq, SipVia } from 'sip';
import { SipSyntaxError } from '../sip-syntax';
import { assertAnyUri, bareHost, parseHostPort } from './sip-uri';

/**
 * Header values of RFC 3261 §25.1 that the gateway reads: parameters, Via, name-addr/addr-spec,
 * CSeq, digest challenges. Values keep their wire text (quoted strings with their quotes, IPv6
 * references with their brackets) so a message re-serialises without losing anything. Every
 * parser throws SipSyntaxError on input the grammar does not allow.
 */

export const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const QUOTED = /^"(?:[^"\\]|\\[\s\S])*"$/;
// gen-value = token / host / quoted-string; host includes IPv6 (bare in `received`, RFC 5118 §4.5)
const GEN_VALUE = /^(?:[A-Za-z0-9\-.!%*_+`'~]+|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+)$/;

/** RFC 3261 §2^31 limit for CSeq (§8.1.1.5) and the largest Content-Length we accept. */
export const MAX_CSEQ = 2 ** 31 - 1;

/**
 * Splits a value at `sep` outside quoted strings and angle brackets (RFC 3261 §7.3.1: a list
 * header may be written as one line of comma-separated values). Throws on an unterminated quote.
 */
export function splitOutside(value: string, sep: ',' | ';'): string[] {
  // the common case: nothing to split, nothing quoted or bracketed
  if (value.indexOf(sep) < 0 && value.indexOf('"') < 0 && value.indexOf('<') < 0) return [value];
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) quoted = false;
      continue;
    }
    if (c === 34 && !angle) quoted = true;
    else if (c === 60 /* < */) angle = true;
    else if (c === 62 /* > */) angle = false;
    else if (c === sep.charCodeAt(0) && !angle) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) throw new SipSyntaxError('unterminated quoted string');
  if (angle) throw new SipSyntaxError('unterminated <');
  out.push(value.slice(start));
  return out;
}

/** `;name[=value]` pairs (generic-param); names lower-cased, values as written. */
export function parseParams(text: string): Record<string, string | null> {
  const params: Record<string, string | null> = {};
  const trimmed = text.trim();
  if (trimmed === '') return params;
  if (!trimmed.startsWith(';')) throw new SipSyntaxError('unexpected text before parameters');
  for (const part of splitOutside(trimmed.slice(1), ';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    const value = eq < 0 ? null : part.slice(eq + 1).trim();
    if (!TOKEN.test(name)) throw new SipSyntaxError('empty or malformed parameter name');
    if (value !== null && !GEN_VALUE.test(value) && !QUOTED.test(value)) throw new SipSyntaxError(`malformed value of parameter ${name}`);
    params[name.toLowerCase()] = value;
  }
  return params;
}

export function stringifyParams(params: Record<string, string | number | null | undefined>): string {
  let s = '';
  for (const k in params) {
    const v = params[k];
    if (v === undefined) continue;
    s += v === null ? `;${k}` : `;${k}=${String(v)}`;
  }
  return s;
}

const VIA = /^SIP\s*\/\s*(\d+\.\d+)\s*\/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+(\[[^\]]*\]|[^\s;:[\]]+)(?:\s*:\s*(\d+))?\s*((?:;[\s\S]*)?)$/i;

/** One via-parm (RFC 3261 §20.42), IPv6 sent-by in brackets (RFC 5118 §4.1). */
export function parseViaValue(text: string): SipVia {
  const m = VIA.exec(text.trim());
  if (!m?.[1] || !m[2] || !m[3]) throw new SipSyntaxError('malformed Via');
  const hp = parseHostPort(m[4] !== undefined ? `${m[3]}:${m[4]}` : m[3]);
  if (!hp) throw new SipSyntaxError('malformed Via sent-by');
  const via: SipVia = { version: m[1], protocol: m[2].toUpperCase(), host: hp.host, params: parseParams(m[5] ?? '') };
  if (hp.port !== undefined) via.port = hp.port;
  const received = via.params.received;
  if (typeof received === 'string' && !parseHostPort(received.startsWith('[') ? received : received.includes(':') ? `[${received}]` : received)) {
    throw new SipSyntaxError('malformed Via received');
  }
  const rport = via.params.rport;
  if (typeof rport === 'string' && !/^\d{1,5}$/.test(rport)) throw new SipSyntaxError('malformed Via rport');
  return via;
}

export function parseViaList(value: string): SipVia[] {
  return splitOutside(value, ',').map(parseViaValue);
}

export function stringifyVia(via: SipVia): string {
  const port = via.port !== undefined && Number.isFinite(via.port) ? `:${via.port}` : '';
  return `SIP/${via.version ?? '2.0'}/${via.protocol.toUpperCase()} ${via.host}${port}${stringifyParams(via.params)}`;
}

/** The sent-by host without brackets, for comparing with a socket address. */
export function viaAddress(via: SipVia): string {
  return bareHost(via.host);
}

/**
 * name-addr or addr-spec with header parameters (RFC 3261 §20.10). In the addr-spec form the
 * first `;` ends the URI, and a URI containing `?` or `,` must be in angle brackets.
 */
export function parseNameAddr(text: string): SipAor {
  const s = text.trim();
  let name: string | undefined;
  let rest: string;
  if (s.startsWith('"')) {
    const q = /^"(?:[^"\\]|\\[\s\S])*"/.exec(s);
    if (!q) throw new SipSyntaxError('unterminated quoted display name');
    name = q[0];
    rest = s.slice(q[0].length).trimStart();
    if (!rest.startsWith('<')) throw new SipSyntaxError('quoted display name without <URI>');
  } else {
    const lt = s.indexOf('<');
    if (lt >= 0) {
      const display = s.slice(0, lt).trim();
      if (display !== '') {
        if (!display.split(/\s+/).every((t) => TOKEN.test(t))) throw new SipSyntaxError('display name must be tokens or a quoted string');
        name = display;
      }
      rest = s.slice(lt);
    } else {
      rest = s;
    }
  }
  let uri: string;
  let paramText: string;
  if (rest.startsWith('<')) {
    const gt = rest.indexOf('>');
    if (gt < 0) throw new SipSyntaxError('unterminated <URI>');
    uri = rest.slice(1, gt);
    paramText = rest.slice(gt + 1);
    // RFC 3261 §25.1: LAQUOT = SWS "<" and RAQUOT = ">" SWS: no whitespace inside the brackets
    if (uri === '' || /\s/.test(uri)) throw new SipSyntaxError('whitespace inside <URI>');
  } else {
    const semi = rest.indexOf(';');
    uri = (semi < 0 ? rest : rest.slice(0, semi)).trim();
    paramText = semi < 0 ? '' : rest.slice(semi);
    if (/[\s,?]/.test(uri)) throw new SipSyntaxError('addr-spec with whitespace, "," or "?" must be in <>');
  }
  assertAnyUri(uri, 'name-addr');
  const aor: SipAor = { uri, params: parseParams(paramText) };
  if (name !== undefined) aor.name = name;
  return aor;
}

export function parseNameAddrList(value: string): SipAor[] {
  return splitOutside(value, ',').map(parseNameAddr);
}

export function stringifyNameAddr(aor: { name?: string; uri: unknown; params: Record<string, string | null> }, stringifyUri: (u: unknown) => string): string {
  return `${aor.name ? `${aor.name} ` : ''}<${stringifyUri(aor.uri)}>${stringifyParams(aor.params)}`;
}

/** CSeq: a 32-bit sequence number below 2^31 (RFC 3261 §8.1.1.5) and the method. */
export function parseCSeq(value: string): SipCSeq {
  const m = /^(\d+)\s+(\S+)$/.exec(value.trim());
  if (!m?.[1] || !m[2] || !TOKEN.test(m[2])) throw new SipSyntaxError('malformed CSeq');
  if (m[1].length > 10 || Number(m[1]) > MAX_CSEQ) throw new SipSyntaxError('CSeq out of range');
  return { seq: Number(m[1]), method: m[2] };
}

/** Non-negative integer header (Content-Length, Max-Forwards, Expires) within `max`. */
export function parseBoundedInt(value: string, max: number, what: string): number {
  const v = value.trim();
  if (!/^\d{1,10}$/.test(v) || Number(v) > max) throw new SipSyntaxError(`${what} out of range`);
  return Number(v);
}

/**
 * WWW-/Proxy-Authenticate and (Proxy-)Authorization (RFC 3261 §25.1, RFC 2617): `scheme p=v, p=v`,
 * possibly several challenges in one line. Values stay quoted as received (sip/digest wants that).
 */
export function parseAuthList(value: string): SipAuthHeader[] {
  const out: SipAuthHeader[] = [];
  for (const raw of splitOutside(value, ',')) {
    const item = raw.trim();
    if (item === '') continue;
    const start = /^([A-Za-z0-9\-.!%*_+`'~]+)\s+([\s\S]*)$/.exec(item);
    const pair = start?.[2] !== undefined && /^[^=\s]+\s*=/.test(start[2]) ? start[2] : item;
    let current = out[out.length - 1];
    if (start?.[1] && pair === start[2]) {
      current = { scheme: start[1] };
      out.push(current);
    }
    if (!current) throw new SipSyntaxError('authentication parameter before any scheme');
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new SipSyntaxError('malformed authentication parameter');
    current[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

export function stringifyAuth(a: SipAuthHeader): string {
  const params = Object.entries(a)
    .filter(([k, v]) => k !== 'scheme' && v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`);
  return `${a.scheme} ${params.join(', ')}`;
}
