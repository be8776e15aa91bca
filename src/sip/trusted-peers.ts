import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { Inbound, Peer } from './transport';
import { bareHost } from './syntax/sip-uri';

/**
 * The trust boundary (RFC 3325 §2.3, §5): requests are accepted only from the peers of our trust
 * domain, the P-CSCF / outbound proxy by default. An entry is `host` (any port) or `host:port`
 * (IPv6 as `[2001:db8::1]:5060` or bare `2001:db8::1`); names are resolved once at start.
 *
 * On TCP only the address is compared: a peer that opens a connection to us does so from an
 * ephemeral port, and the connection's address cannot be forged (unlike a datagram's source,
 * which a spoofer can set but then never sees our answer).
 */

export interface TrustEntry {
  host: string;
  port?: number;
}

/** Parses SIP_TRUSTED_PEERS (comma-separated). Throws on an entry that is neither host nor host:port. */
export function parseTrustedPeers(text: string): TrustEntry[] {
  return text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .map((e) => {
      if (isIP(e) === 6) return { host: e };
      const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(e);
      const port = m?.[2] !== undefined ? Number(m[2]) : undefined;
      if (!m?.[1] || (port !== undefined && (port < 1 || port > 65535)) || (m[1].startsWith('[') && isIP(bareHost(m[1])) !== 6)) {
        throw new Error(`SIP_TRUSTED_PEERS entry ${JSON.stringify(e)} is not host or host:port`);
      }
      return port !== undefined ? { host: bareHost(m[1]), port } : { host: bareHost(m[1]) };
    });
}

/** One textual form per address: lower case, IPv6 compressed, IPv4-mapped IPv6 as IPv4. */
export function canonicalAddress(address: string): string {
  const a = bareHost(address).toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped?.[1]) return mapped[1];
  if (isIP(a) !== 6) return a;
  const c = new URL(`http://[${a}]/`).hostname.slice(1, -1);
  const m2 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(c);
  if (!m2?.[1] || !m2[2]) return c;
  const hi = parseInt(m2[1], 16);
  const lo = parseInt(m2[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export class TrustedPeers {
  private constructor(private readonly entries: ReadonlyArray<{ address: string; port?: number }>) {}

  /** Resolves host names (all their addresses). */
  static async resolve(entries: readonly TrustEntry[]): Promise<TrustedPeers> {
    const out: Array<{ address: string; port?: number }> = [];
    for (const e of entries) {
      const addresses = isIP(e.host) ? [e.host] : (await lookup(e.host, { all: true })).map((r) => r.address);
      for (const address of addresses) out.push(e.port !== undefined ? { address: canonicalAddress(address), port: e.port } : { address: canonicalAddress(address) });
    }
    return new TrustedPeers(out);
  }

  /** The default: the address and port the outbound proxy resolved to. */
  static of(peers: readonly Peer[]): TrustedPeers {
    return new TrustedPeers(peers.map((p) => ({ address: canonicalAddress(p.address), port: p.port })));
  }

  isTrusted(source: Inbound): boolean {
    const address = canonicalAddress(source.address);
    return this.entries.some((e) => e.address === address && (e.port === undefined || source.protocol !== 'UDP' || e.port === source.port));
  }

  describe(): string[] {
    return this.entries.map((e) => (e.port !== undefined ? `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}` : e.address));
  }
}
