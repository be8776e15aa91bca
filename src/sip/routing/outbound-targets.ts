import type { Logger } from 'pino';
import type { Peer } from '../transport';
import { DnsClient, ProxyLocation, ResolvedTarget, resolveProxy } from './rfc3263';

/**
 * The outbound proxy's targets (RFC 3263 §4.3: the ordered list of addresses a request may go to)
 * and what we know of each: up, down (no answer, transport failure) or unknown (not tried yet).
 *
 * - The list comes from DNS (rfc3263.ts) and is kept for the answer's TTL; once stale it is
 *   refreshed in the background while the old list keeps serving (a failed refresh keeps it).
 * - The order is fixed per resolution (RFC 2782's weighted draw is made once per DNS answer), so
 *   one instance keeps talking to one P-CSCF — where its subscribers registered — until it fails.
 * - A target that timed out or refused the transport is down: requests skip it (tried only when
 *   every other one is down too) for the hold-down time and until it answers again (an OPTIONS
 *   probe, see TargetProber). A 503 with Retry-After keeps a target out of use for that long
 *   (RFC 3261 §21.5.4); a 503 without it proves the target alive and changes nothing.
 */

export type TargetState = 'up' | 'down' | 'unknown';
export type TargetFailure = 'timeout' | 'transport' | 'unavailable';

/** One target as health and metrics report it. */
export interface OutboundTargetStatus {
  /** `address:port` (`[v6]:port`). */
  target: string;
  /** The DNS name it came from. */
  name: string;
  transport: string;
  state: TargetState;
  lastError?: string;
  /** epoch ms of the last change of state */
  since: number;
  /** Failures seen so far, by kind. */
  failures: Record<TargetFailure, number>;
}

interface Target extends ResolvedTarget {
  key: string;
  state: TargetState;
  lastError?: string;
  since: number;
  /** epoch ms before which the target is not used even if it answers (503 Retry-After). */
  holdUntil: number;
  failures: Record<TargetFailure, number>;
}

export interface OutboundTargetsOptions {
  location: ProxyLocation;
  dns: DnsClient;
  /** Address family of our socket. */
  family: 4 | 6;
  logger: Logger;
  /** A target that timed out or failed the transport is skipped at least this long, whatever it answers meanwhile (default 0). */
  holdDownMs?: number;
  now?: () => number;
  random?: () => number;
}

export function peerKey(p: Peer): string {
  return `${p.address.includes(':') ? `[${p.address}]` : p.address}:${p.port}`;
}

export class OutboundTargets {
  private targets: Target[] = [];
  private peersCache: readonly Peer[] = [];
  private expiresAt = 0;
  private refreshing: Promise<void> | undefined;
  private lastDnsError: string | undefined;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly opts: OutboundTargetsOptions) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  /** Resolves now (at most one resolution at a time). Never rejects: a failure keeps the old list and is logged. */
  refresh(): Promise<void> {
    this.refreshing ??= this.resolve().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** The targets in the order to try them: usable ones first, then the down ones (a last resort). Starts a refresh when stale. */
  candidates(): Peer[] {
    if (this.now() >= this.expiresAt) void this.refresh();
    const now = this.now();
    const usable = this.targets.filter((t) => t.state !== 'down' && t.holdUntil <= now);
    const rest = this.targets.filter((t) => !usable.includes(t));
    return [...usable, ...rest].map(({ address, port }) => ({ address, port }));
  }

  /** True when the target is known and neither down nor held (a 503 Retry-After). */
  isUsable(peer: Peer): boolean {
    const t = this.find(peer);
    return t !== undefined && t.state !== 'down' && t.holdUntil <= this.now();
  }

  /** Where a request with no other choice goes (stateless ACKs): the first candidate. */
  primary(): Peer | undefined {
    return this.candidates()[0];
  }

  /** Every known target (the default RFC 3325 trust domain); the same array until the list changes. */
  peers(): readonly Peer[] {
    return this.peersCache;
  }

  /** True when the list is empty because DNS has not answered (yet). */
  get dnsError(): string | undefined {
    return this.targets.length === 0 ? this.lastDnsError : undefined;
  }

  /** A request or probe got no answer, the transport failed, or a 503 came (with Retry-After: `holdMs`). */
  reportFailure(peer: Peer, kind: TargetFailure, detail: string, holdMs = 0): void {
    const t = this.find(peer);
    if (!t) return;
    t.failures[kind] += 1;
    t.lastError = detail;
    // a 503 proves the target is alive: only a Retry-After keeps it out of use
    if (kind === 'unavailable' && holdMs <= 0) return;
    const hold = kind === 'unavailable' ? holdMs : (this.opts.holdDownMs ?? 0);
    if (hold > 0) t.holdUntil = Math.max(t.holdUntil, this.now() + hold);
    if (t.state !== 'down') {
      t.state = 'down';
      t.since = this.now();
      this.opts.logger.warn({ target: t.key, name: t.name, error: detail }, 'SIP outbound target down: requests go to the next one (RFC 3263 §4.3)');
    }
  }

  /** A response came from the target. */
  reportAlive(peer: Peer): void {
    const t = this.find(peer);
    if (!t || t.state === 'up' || t.holdUntil > this.now()) return;
    const was = t.state;
    t.state = 'up';
    t.since = this.now();
    if (was === 'down') this.opts.logger.info({ target: t.key, name: t.name }, 'SIP outbound target answers again');
  }

  status(): OutboundTargetStatus[] {
    return this.targets.map((t) => ({
      target: t.key,
      name: t.name,
      transport: t.transport,
      state: t.state,
      ...(t.lastError !== undefined && { lastError: t.lastError }),
      since: t.since,
      failures: { ...t.failures },
    }));
  }

  private find(peer: Peer): Target | undefined {
    const key = peerKey(peer);
    return this.targets.find((t) => t.key === key);
  }

  private async resolve(): Promise<void> {
    try {
      const r = await resolveProxy(this.opts.location, this.opts.dns, this.opts.family, this.random);
      const now = this.now();
      const old = new Map(this.targets.map((t) => [t.key, t]));
      // what we knew of a target survives a refresh that returns it again
      this.targets = r.targets.map((rt) => {
        const key = peerKey(rt);
        const prev = old.get(key);
        return prev ? { ...prev, ...rt, key } : { ...rt, key, state: 'unknown', since: now, holdUntil: 0, failures: { timeout: 0, transport: 0, unavailable: 0 } };
      });
      this.peersCache = this.targets.map(({ address, port }) => ({ address, port }));
      this.expiresAt = now + r.ttlS * 1000;
      this.lastDnsError = undefined;
      const previous = [...old.keys()];
      const changed = this.targets.length !== previous.length || this.targets.some((t, i) => previous[i] !== t.key);
      // info when the list changes, debug on every refresh (as often as every MIN_CACHE_S)
      const log = changed ? this.opts.logger.info.bind(this.opts.logger) : this.opts.logger.debug.bind(this.opts.logger);
      log({ proxy: this.opts.location.host, source: r.source, targets: this.targets.map((t) => t.key), ttlS: r.ttlS }, 'SIP outbound proxy resolved (RFC 3263)');
    } catch (err) {
      this.lastDnsError = err instanceof Error ? err.message : String(err);
      // retry soon, keep what we had
      this.expiresAt = this.now() + 5_000;
      this.opts.logger.warn({ proxy: this.opts.location.host, err: this.lastDnsError }, 'SIP outbound proxy: DNS resolution failed');
    }
  }
}
