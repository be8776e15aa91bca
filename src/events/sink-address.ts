import { lookup as dnsLookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Why a sink URL is refused (SSRF protection). */
export class SinkRejectedError extends Error {
  /** `transient`: the host did not resolve (may be a DNS hiccup at delivery time). */
  constructor(
    message: string,
    readonly transient = false,
  ) {
    super(message);
    this.name = 'SinkRejectedError';
  }
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves every address of a host name (`dns.lookup` with `all: true`); injectable for tests. */
export type ResolveFn = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolve: ResolveFn = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/**
 * Resolves A and AAAA at the given DNS servers (`EVENTS_DNS_SERVERS`: `ip`, `ip:port`, `[ipv6]:port`),
 * not through the system's resolver. Fails only when neither family has an address.
 */
export function serversResolve(servers: readonly string[], timeoutMs = 2000): ResolveFn {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  resolver.setServers([...servers]);
  return async (hostname) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    const found: ResolvedAddress[] = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
    ];
    if (found.length === 0 && v4.status === 'rejected') throw v4.reason instanceof Error ? v4.reason : new Error(String(v4.reason));
    return found;
  };
}

/**
 * IPv6 forms that carry an IPv4 address, each judged by that address: mapped `::ffff:0:0/96` and
 * the RFC 6145 translated form, compatible `::/96` (RFC 4291 §2.5.5.1), 6to4 `2002::/16`
 * (RFC 3056), NAT64 `64:ff9b::/96` (RFC 6052), Teredo `2001::/32` (server, and client obfuscated
 * by XOR, RFC 4380 §4) and ISATAP interface ids `…:0:5efe:a.b.c.d` (RFC 5214 §6.1).
 */
function embeddedIpv4(v6: ipaddr.IPv6): ipaddr.IPv4[] {
  const p = v6.parts;
  const part = (i: number): number => p[i] ?? 0;
  const v4 = (hi: number, lo: number): ipaddr.IPv4 => new ipaddr.IPv4([(hi >> 8) & 255, hi & 255, (lo >> 8) & 255, lo & 255]);
  const zeros = (n: number): boolean => p.slice(0, n).every((x) => x === 0);
  const out: ipaddr.IPv4[] = [];
  if (zeros(5) && (part(5) === 0 || part(5) === 0xffff)) out.push(v4(part(6), part(7)));
  if (zeros(4) && part(4) === 0xffff && part(5) === 0) out.push(v4(part(6), part(7)));
  if (part(0) === 0x2002) out.push(v4(part(1), part(2)));
  if (part(0) === 0x64 && part(1) === 0xff9b) out.push(v4(part(6), part(7)));
  if (part(0) === 0x2001 && part(1) === 0) out.push(v4(part(2), part(3)), v4(part(6) ^ 0xffff, part(7) ^ 0xffff));
  if ((part(4) === 0 || part(4) === 0x200) && part(5) === 0x5efe) out.push(v4(part(6), part(7)));
  return out;
}

/** Ranges (ipaddr.js names) whose address is judged by the IPv4 address it embeds. */
const EMBEDDING = new Set(['ipv4Mapped', 'rfc6145', 'rfc6052', '6to4', 'teredo']);

/**
 * Whether `ip` (a literal) is an address events must never be sent to: anything but global unicast
 * (ipaddr.js classifies loopback, private, CGNAT, link-local and cloud metadata, ULA, multicast,
 * reserved, benchmarking…), and any IPv6 form embedding such an IPv4. Unparseable counts as forbidden.
 */
export function isForbiddenAddress(ip: string): boolean {
  const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIP(bare) === 0) return true;
  const addr = ipaddr.parse(bare);
  if (addr instanceof ipaddr.IPv4) return addr.range() !== 'unicast';
  // RFC 8215 local-use NAT64 prefix: where its IPv4 sits depends on the operator's prefix length.
  if (addr.match(ipaddr.IPv6.parse('64:ff9b:1::'), 48)) return true;
  if (embeddedIpv4(addr).some((v4) => v4.range() !== 'unicast')) return true;
  const range = addr.range();
  return range !== 'unicast' && !EMBEDDING.has(range);
}

/**
 * The sink rules, applied at subscription time and again at connect time (DNS rebinding):
 * `https://` only, and every resolved address public. `allowPrivateSinks` (labs, tests) lifts both.
 */
export class SinkPolicy {
  constructor(
    readonly allowPrivateSinks: boolean,
    private readonly resolve: ResolveFn = systemResolve,
  ) {}

  /** Parses and checks the URL's form (no DNS). */
  parse(sink: string): URL {
    let url: URL;
    try {
      url = new URL(sink);
    } catch {
      throw new SinkRejectedError('sink is not a valid URL');
    }
    const httpOk = this.allowPrivateSinks && url.protocol === 'http:';
    if (url.protocol !== 'https:' && !httpOk) throw new SinkRejectedError('sink must be an https:// URL');
    if (url.username || url.password) throw new SinkRejectedError('sink must not carry user information');
    if (!url.hostname) throw new SinkRejectedError('sink has no host');
    return url;
  }

  /** Resolves `hostname` and returns its addresses if all of them are allowed. */
  async resolveAllowed(hostname: string): Promise<ResolvedAddress[]> {
    const host = hostname.replace(/^\[|\]$/g, '');
    const literal = isIP(host);
    let addresses: ResolvedAddress[];
    if (literal !== 0) addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
    else {
      try {
        addresses = await this.resolve(host);
      } catch (err) {
        throw new SinkRejectedError(`sink host ${host} does not resolve (${err instanceof Error ? err.message : String(err)})`, true);
      }
    }
    if (addresses.length === 0) throw new SinkRejectedError(`sink host ${host} does not resolve`, true);
    if (!this.allowPrivateSinks) {
      const bad = addresses.find((a) => isForbiddenAddress(a.address));
      if (bad) throw new SinkRejectedError(`sink host ${host} resolves to a non-public address`);
    }
    return addresses;
  }

  /** The full check made when a subscription is created or its sink used. */
  async check(sink: string): Promise<URL> {
    const url = this.parse(sink);
    await this.resolveAllowed(url.hostname);
    return url;
  }
}
