import type { SipMessage, SipVia } from 'sip';
import { generateBranch } from '../sip-syntax';
import { parseViaValue, stringifyVia } from '../syntax/header-values';
import { bareHost, hostForUri } from '../syntax/sip-uri';
import { canonicalAddress } from '../trusted-peers';
import { isStream, type Inbound, type SipProtocol } from '../transport';

/** Via handling and the keys transactions are matched on (RFC 3261 §17.1.3, §17.2.3). */

/** Parses one Via value (our own, stored as text); undefined when malformed. */
export function parseVia(text: string): SipVia | undefined {
  try {
    return parseViaValue(text);
    // Stryker disable next-line BlockStatement: an empty catch returns undefined as well (equivalent)
  } catch {
    return undefined;
  }
}

export function viaText(via: SipVia): string {
  return stringifyVia(via);
}

/**
 * Our Via for a new request: a fresh strong branch, `rport` on UDP (RFC 3581: responses to the
 * source port), `alias` on TLS (RFC 5923 §6: the proxy may send its requests for us back on the
 * connection we opened, instead of opening one to our listener).
 */
export function newVia(protocol: SipProtocol, host: string, port: number): SipVia {
  const extra: Record<string, null> = protocol === 'UDP' ? { rport: null } : protocol === 'TLS' ? { alias: null } : {};
  return { version: '2.0', protocol, host: hostForUri(host), port, params: { branch: generateBranch(), ...extra } };
}

/**
 * RFC 3261 §18.2.1 and RFC 3581 §4: on a received request, add `received` (the source address)
 * when the sent-by host is a name or another address, and always when `rport` is present, which
 * then gets the source port. Mutates the top Via; responses copy it.
 */
export function stampReceived(rq: SipMessage, source: Inbound): void {
  const via = rq.headers.via?.[0];
  if (!via) return;
  const source4or6 = canonicalAddress(source.address);
  const rport = 'rport' in via.params;
  if (rport || canonicalAddress(via.host) !== source4or6) via.params.received = source4or6;
  if (rport) via.params.rport = String(source.port);
}

/**
 * Where a response goes (RFC 3261 §18.2.2, RFC 3581 §4): on TCP/TLS the connection the request came
 * on, else a new one to the `received` address and sent-by port; on UDP `maddr` if present, else
 * the source address and, with `rport`, the source port, without it the sent-by port (default 5060,
 * 5061 for TLS: RFC 3261 §19.1.2).
 */
export function responseTarget(via: SipVia | undefined, source: Inbound): Inbound {
  const sentByPort = via?.port !== undefined && Number.isFinite(via.port) ? via.port : source.protocol === 'TLS' ? 5061 : 5060;
  if (isStream(source.protocol)) return { ...source, port: source.connection && !source.connection.destroyed ? source.port : sentByPort };
  const maddr = via?.params.maddr;
  if (typeof maddr === 'string' && maddr !== '') return { protocol: 'UDP', address: bareHost(maddr), port: sentByPort };
  if (via && 'rport' in via.params) return { protocol: 'UDP', address: source.address, port: source.port };
  return { protocol: 'UDP', address: source.address, port: via ? sentByPort : source.port };
}

export function branchOf(m: SipMessage): string {
  const b = m.headers.via?.[0]?.params.branch;
  return typeof b === 'string' ? b : '';
}

export function sentBy(m: SipMessage): string {
  const v = m.headers.via?.[0];
  return v ? `${v.host}:${v.port ?? ''}` : '';
}

export function toTagOf(m: SipMessage): string | undefined {
  const t = m.headers.to?.params.tag;
  return typeof t === 'string' && t !== '' ? t : undefined;
}
