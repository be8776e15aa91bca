import { isIP } from 'node:net';
import { lookup, Resolver } from 'node:dns/promises';
import type { NaptrRecord, RecordWithTtl, SrvRecord } from 'node:dns';
import { bareHost, parseSipUri } from '../syntax/sip-uri';
import { SipSyntaxError } from '../sip-syntax';

/**
 * Locating the outbound proxy (the P-CSCF) by RFC 3263 §4: NAPTR → SRV → A/AAAA. Pure apart from
 * the DNS client it is given, so the order rules are unit-tested with a fake one.
 */

/** Transport names as the configuration writes them; `tls` is SIP over TLS over TCP (RFC 3263 §4.1 `SIPS+D2T`). */
export type SipTransportName = 'udp' | 'tcp' | 'tls';

/** The part of node:dns/promises' Resolver this file uses. */
export interface DnsClient {
  resolveNaptr(name: string): Promise<NaptrRecord[]>;
  resolveSrv(name: string): Promise<SrvRecord[]>;
  resolve4(name: string, options: { ttl: true }): Promise<RecordWithTtl[]>;
  resolve6(name: string, options: { ttl: true }): Promise<RecordWithTtl[]>;
}

/** TTL given to addresses found by the system's host lookup (/etc/hosts, …), which has none. */
export const HOSTS_TTL_S = 30;

/**
 * A Resolver on the given servers (`ip`, `ip:port`, `[ipv6]:port`), or on the system's when none
 * are given. With the system's, a name DNS does not know is looked up like any host name too
 * (getaddrinfo: /etc/hosts, container names), as before RFC 3263 was supported.
 */
export function nodeDnsClient(servers: readonly string[] = [], timeoutMs = 2000): DnsClient {
  const r = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers.length > 0) {
    r.setServers([...servers]);
    return r;
  }
  const viaHosts = async (dns: Promise<RecordWithTtl[]>, name: string, family: 4 | 6): Promise<RecordWithTtl[]> => {
    const found = await orEmpty(dns);
    if (found.length > 0) return found;
    return (await orEmpty(lookup(name, { family, all: true }))).map((a) => ({ address: a.address, ttl: HOSTS_TTL_S }));
  };
  return {
    resolveNaptr: (name) => r.resolveNaptr(name),
    resolveSrv: (name) => r.resolveSrv(name),
    resolve4: (name, options) => viaHosts(r.resolve4(name, options), name, 4),
    resolve6: (name, options) => viaHosts(r.resolve6(name, options), name, 6),
  };
}

/** What RFC 3263 needs from `SIP_OUTBOUND_PROXY`. */
export interface ProxyLocation {
  host: string;
  /** Explicit port: no NAPTR/SRV (RFC 3263 §4.2). */
  port?: number;
  transport: SipTransportName;
}

/**
 * The proxy URI, with the transport the stack speaks. RFC 3263 §4.1: a `sips:` URI means TLS; the
 * stack has one transport per instance, so `transport` is the configured one.
 */
export function proxyLocation(uri: string, transport: SipTransportName): ProxyLocation {
  const u = parseSipUri(uri);
  if (!u) throw new SipSyntaxError(`SIP outbound proxy ${uri} is not a SIP URI`);
  const t: SipTransportName = u.schema === 'sips' ? 'tls' : transport;
  return { host: bareHost(u.host).replace(/\.$/, ''), ...(u.port !== undefined && Number.isFinite(u.port) && { port: u.port }), transport: t };
}

export interface ResolvedTarget {
  address: string;
  port: number;
  transport: SipTransportName;
  /** The name it was found under (SRV target or the proxy host), for logs and health. */
  name: string;
}

export interface Resolution {
  /** In the order to try them (RFC 3263 §4.3). */
  targets: ResolvedTarget[];
  /** How long the answer may be used; Infinity for an IP address. */
  ttlS: number;
  /** Which step gave the targets. */
  source: 'ip' | 'naptr' | 'srv' | 'a';
}

/** RFC 3263 §4.1 NAPTR services and SRV prefixes per transport. */
const NAPTR_SERVICE: Record<SipTransportName, string> = { udp: 'SIP+D2U', tcp: 'SIP+D2T', tls: 'SIPS+D2T' };
const SRV_PREFIX: Record<SipTransportName, string> = { udp: '_sip._udp.', tcp: '_sip._tcp.', tls: '_sips._tcp.' };
/** RFC 3261 §19.1.2: default ports. */
export const DEFAULT_PORT: Record<SipTransportName, number> = { udp: 5060, tcp: 5060, tls: 5061 };
/** Node's Resolver gives no TTL for NAPTR and SRV: the A/AAAA TTLs govern, kept within these bounds. */
export const MIN_CACHE_S = 5;
export const MAX_CACHE_S = 3600;

/** "No such record" answers: the next step of RFC 3263 applies. Other errors (timeouts, refused) are real failures. */
function isNoData(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENODATA' || code === 'ENOTFOUND' || code === 'NOTFOUND' || code === 'ENONAME';
}

async function orEmpty<T>(p: Promise<T[]>): Promise<T[]> {
  try {
    return await p;
  } catch (err) {
    if (isNoData(err)) return [];
    throw err;
  }
}

/**
 * RFC 2782 ordering: lowest priority first; within a priority, a weighted random draw without
 * replacement (weight-0 records placed first, so they are chosen only when the running sum is 0).
 * Records whose target is "." mean "no service here" and are dropped.
 */
export function orderSrv(records: readonly SrvRecord[], random: () => number): SrvRecord[] {
  const usable = records.filter((r) => r.name !== '' && r.name !== '.');
  const priorities = [...new Set(usable.map((r) => r.priority))].sort((a, b) => a - b);
  const out: SrvRecord[] = [];
  for (const p of priorities) {
    const group = usable.filter((r) => r.priority === p).sort((a, b) => (a.weight === 0 ? 0 : 1) - (b.weight === 0 ? 0 : 1));
    while (group.length > 0) {
      const total = group.reduce((s, r) => s + r.weight, 0);
      const pick = random() * total;
      let running = 0;
      let index = group.length - 1;
      for (let i = 0; i < group.length; i++) {
        running += group[i]?.weight ?? 0;
        // RFC 2782: the first record whose running sum is >= the random number
        if (running >= pick) {
          index = i;
          break;
        }
      }
      out.push(...group.splice(index, 1));
    }
  }
  return out;
}

/** RFC 3263 §4.1: NAPTR records of our transport whose next step is SRV, best first (order, then preference). */
function naptrForTransport(records: readonly NaptrRecord[], transport: SipTransportName): NaptrRecord[] {
  return records
    .filter((r) => r.flags.toLowerCase() === 's' && r.service.toUpperCase() === NAPTR_SERVICE[transport] && r.replacement !== '')
    .sort((a, b) => a.order - b.order || a.preference - b.preference);
}

async function addresses(dns: DnsClient, name: string, family: 4 | 6): Promise<RecordWithTtl[]> {
  return orEmpty(family === 6 ? dns.resolve6(name, { ttl: true }) : dns.resolve4(name, { ttl: true }));
}

/**
 * Resolves the outbound proxy to the ordered list of addresses to try. `family`: the address family
 * of our socket (a udp4 socket cannot reach an AAAA answer). Rejects when nothing resolves.
 */
export async function resolveProxy(loc: ProxyLocation, dns: DnsClient, family: 4 | 6, random: () => number = Math.random): Promise<Resolution> {
  const { host, transport } = loc;
  // RFC 3263 §4.2: a numeric IP address is used as is, with the default port if none is given
  if (isIP(host)) return { targets: [{ address: host, port: loc.port ?? DEFAULT_PORT[transport], transport, name: host }], ttlS: Infinity, source: 'ip' };
  let ttlS = MAX_CACHE_S;
  const found: ResolvedTarget[] = [];
  const add = (records: RecordWithTtl[], port: number, name: string): void => {
    for (const r of records) {
      ttlS = Math.min(ttlS, r.ttl);
      if (!found.some((t) => t.address === r.address && t.port === port)) found.push({ address: r.address, port, transport, name });
    }
  };
  const done = (source: Resolution['source']): Resolution => {
    if (found.length === 0) throw new Error(`${host}: no ${family === 6 ? 'AAAA' : 'A'} record for any ${source === 'a' ? 'name' : 'SRV target'}`);
    return { targets: found, ttlS: Math.max(MIN_CACHE_S, ttlS), source };
  };
  // RFC 3263 §4.2: an explicit port means A/AAAA only
  if (loc.port !== undefined) {
    add(await addresses(dns, host, family), loc.port, host);
    return done('a');
  }
  // RFC 3263 §4.1: NAPTR for the domain, keeping the services of our transport; else SRV by prefix
  let srv: SrvRecord[] = [];
  let source: Resolution['source'] = 'srv';
  for (const n of naptrForTransport(await orEmpty(dns.resolveNaptr(host)), transport)) {
    srv = await orEmpty(dns.resolveSrv(n.replacement));
    if (srv.length > 0) {
      source = 'naptr';
      break;
    }
  }
  if (srv.length === 0) srv = await orEmpty(dns.resolveSrv(`${SRV_PREFIX[transport]}${host}`));
  if (srv.length > 0) {
    // RFC 2782 order; each SRV target's addresses, in the order DNS gave them
    for (const r of orderSrv(srv, random)) add(await addresses(dns, r.name, family), r.port, r.name);
    return done(source);
  }
  // RFC 3263 §4.2: no SRV records: A/AAAA of the domain with the transport's default port
  add(await addresses(dns, host, family), DEFAULT_PORT[transport], host);
  return done('a');
}
