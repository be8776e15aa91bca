import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

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
 * Addresses a sink may never resolve to: loopback, private (RFC 1918, CGNAT, ULA), link-local
 * (which holds the cloud metadata endpoints 169.254.169.254 and fd00:ec2::254 via ULA),
 * multicast, unspecified, broadcast and other special-purpose ranges (RFC 6890).
 */
const forbidden = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT (RFC 6598); holds Alibaba's metadata 100.100.100.200
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local; cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments (RFC 6890)
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  forbidden.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // ULA
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
  ['100::', 64], // discard-only
] as const) {
  forbidden.addSubnet(net, bits, 'ipv6');
}

/** IPv4 embedded in IPv6 by mapping (::ffff:a.b.c.d), compatibility (::a.b.c.d) or NAT64 (64:ff9b::/96). */
function embeddedIpv4(ip: string): string | undefined {
  const lower = ip.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex && hex[1] && hex[2]) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

/** Whether `ip` (a literal) is an address events must never be sent to. Unparseable counts as forbidden. */
export function isForbiddenAddress(ip: string): boolean {
  const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return forbidden.check(bare, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4 !== undefined) return isForbiddenAddress(v4);
    return forbidden.check(bare, 'ipv6');
  }
  return true;
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
