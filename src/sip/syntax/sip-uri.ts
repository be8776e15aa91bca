import { isIPv4, isIPv6 } from 'node:net';
import type { SipUri } from 'sip';
import { SipSyntaxError } from '../sip-syntax';

/**
 * SIP/SIPS URIs (RFC 3261 §19.1, §25.1) with IPv6 references (RFC 5118): `sip:user@[2001:db8::10]:5070`.
 * The `sip` package's parser reads the host as `[\w\-.]+`, so any IPv6 host is lost; this one
 * keeps the brackets in `host` (as written on the wire) and validates the address inside them.
 */

// RFC 3261 §25.1: unreserved / escaped / user-unreserved, and password characters
const USER = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;
const PASSWORD = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*$/;
const HOSTNAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?$/;
const PARAM = /^(?:[A-Za-z0-9\-_.!~*'()[\]/:&+$]|%[0-9A-Fa-f]{2})+$/;
const HEADER_PART = /^(?:[A-Za-z0-9\-_.!~*'()[\]/?:+$]|%[0-9A-Fa-f]{2})*$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

/** True for an IPv6 reference as written in a URI or Via: `[2001:db8::1]` (RFC 3261 §25.1, RFC 5118 §4.8). */
export function isIpv6Reference(host: string): boolean {
  return host.length > 2 && host.startsWith('[') && host.endsWith(']') && isIPv6(host.slice(1, -1));
}

/** A host as it goes into a URI or Via: IPv6 addresses in brackets, anything else unchanged. */
export function hostForUri(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

/** The address inside an IPv6 reference (brackets removed); other hosts unchanged. */
export function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** RFC 3261 §25.1 host: hostname / IPv4address / IPv6reference. */
export function isValidHost(host: string): boolean {
  if (host.startsWith('[')) return isIpv6Reference(host);
  if (/^[\d.]+$/.test(host)) return isIPv4(host);
  return host.length <= 253 && HOSTNAME.test(host);
}

/** Splits `host[:port]`; undefined when the host or port is not valid. */
export function parseHostPort(text: string): { host: string; port?: number } | undefined {
  let host: string;
  let rest: string;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) return undefined;
    host = text.slice(0, end + 1);
    rest = text.slice(end + 1);
  } else {
    const colon = text.indexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    rest = colon < 0 ? '' : text.slice(colon);
  }
  if (!isValidHost(host)) return undefined;
  if (rest === '') return { host };
  const m = /^:(\d{1,5})$/.exec(rest);
  const port = m?.[1] !== undefined ? Number(m[1]) : NaN;
  return Number.isInteger(port) && port <= 65535 ? { host, port } : undefined;
}

/** Parses a SIP or SIPS URI; undefined when it is not one or is malformed. */
export function parseSipUri(text: string): SipUri | undefined {
  const m = /^(sips?):(.*)$/i.exec(text);
  if (!m?.[1] || m[2] === undefined || /[\s<>"]/.test(m[2])) return undefined;
  let rest = m[2];
  let user: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    password = colon < 0 ? undefined : userinfo.slice(colon + 1);
    if (!USER.test(user) || (password !== undefined && !PASSWORD.test(password))) return undefined;
  }
  const q = rest.indexOf('?');
  const headerText = q < 0 ? undefined : rest.slice(q + 1);
  if (q >= 0) rest = rest.slice(0, q);
  const [hostport = '', ...paramParts] = rest.split(';');
  const hp = parseHostPort(hostport);
  if (!hp) return undefined;
  const params: Record<string, string | null> = {};
  for (const p of paramParts) {
    const eq = p.indexOf('=');
    const name = eq < 0 ? p : p.slice(0, eq);
    const value = eq < 0 ? null : p.slice(eq + 1);
    if (!PARAM.test(name) || (value !== null && !PARAM.test(value))) return undefined;
    params[name.toLowerCase()] = value;
  }
  const headers: Record<string, string> = {};
  if (headerText !== undefined) {
    for (const h of headerText.split('&')) {
      const eq = h.indexOf('=');
      if (eq <= 0 || !HEADER_PART.test(h.slice(0, eq)) || !HEADER_PART.test(h.slice(eq + 1))) return undefined;
      headers[h.slice(0, eq)] = h.slice(eq + 1);
    }
  }
  const uri: SipUri = { schema: m[1].toLowerCase(), host: hp.host, params, headers };
  if (hp.port !== undefined) uri.port = hp.port;
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  return uri;
}

/** Writes a parsed URI back (IPv6 host keeps its brackets). */
export function stringifySipUri(uri: SipUri | string): string {
  if (typeof uri === 'string') return uri;
  let s = `${uri.schema || 'sip'}:`;
  if (uri.user) s += uri.password !== undefined ? `${uri.user}:${uri.password}@` : `${uri.user}@`;
  s += hostForUri(uri.host);
  if (uri.port !== undefined && Number.isFinite(uri.port)) s += `:${uri.port}`;
  for (const k in uri.params) {
    const v = uri.params[k];
    s += v === null ? `;${k}` : `;${k}=${v}`;
  }
  let sep = '?';
  for (const k in uri.headers) {
    s += `${sep}${k}=${uri.headers[k]}`;
    sep = '&';
  }
  return s;
}

/**
 * URIs that passed `assertAnyUri` lately: the same few (our Contact, the proxy's Record-Route, the
 * domain's AoRs) come in every message, so they are validated once. Bounded in count and length;
 * emptied when full.
 */
const VALID_URIS = new Set<string>();
export const VALID_URIS_MAX = 1024;
const CACHED_URI_LENGTH = 256;
/** How many validated URIs are remembered (for the bound's test). */
export const validUrisKept = (): number => VALID_URIS.size;

/**
 * Checks any URI found in a message: SIP/SIPS strictly (above), other schemes as RFC 3261
 * absoluteURI (`scheme:` and no whitespace or angle brackets). Throws SipSyntaxError.
 */
export function assertAnyUri(text: string, what: string): void {
  if (VALID_URIS.has(text)) return;
  const colon = text.indexOf(':');
  const scheme = colon > 0 ? text.slice(0, colon) : '';
  if (!SCHEME.test(scheme)) throw new SipSyntaxError(`${what}: not a URI`);
  if (/^sips?$/i.test(scheme)) {
    if (!parseSipUri(text)) throw new SipSyntaxError(`${what}: malformed SIP URI`);
  } else if (colon === text.length - 1 || /[\s<>"]/.test(text)) {
    throw new SipSyntaxError(`${what}: malformed URI`);
  }
  if (text.length <= CACHED_URI_LENGTH) {
    if (VALID_URIS.size >= VALID_URIS_MAX) VALID_URIS.clear();
    VALID_URIS.add(text);
  }
}
