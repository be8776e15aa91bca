import type { LookupAddress, LookupOptions } from 'node:dns';
import { Pool } from 'undici';
import { SinkPolicy } from './sink-address';

export interface SinkPoolOptions {
  /** Connect, response-headers and response-body timeout of every POST (dispatcher-level, no per-request timer). */
  timeoutMs: number;
  /** Connections kept open to one sink origin at most; more concurrent POSTs to it wait for one. */
  connectionsPerOrigin: number;
  /** Sink origins with a pool at the same time; the least recently used pool is closed beyond that. */
  maxOrigins: number;
  /** A pool unused for this long is closed (its sockets with it), e.g. after its subscriptions ended. */
  idleMs: number;
}

/** `connectionsPerOrigin` matches the delivery worker's default concurrency (`EVENTS_SINK_CONNECTIONS`, README). */
export const DEFAULT_SINK_POOL_OPTIONS: SinkPoolOptions = { timeoutMs: 5000, connectionsPerOrigin: 64, maxOrigins: 512, idleMs: 60_000 };

interface Entry {
  pool: Pool;
  inFlight: number;
  lastUsed: number;
}

/**
 * One undici `Pool` per sink origin (scheme, host, port), so POSTs to a sink reuse kept-alive
 * connections. Every new connection of a pool resolves the sink host through the SinkPolicy in
 * the connector's `lookup` and connects to exactly the address that was checked, so pooling keeps
 * the DNS-rebinding protection: a reused socket is still connected to the address validated when
 * it was opened, and a socket is never opened to an address that was not validated. Pooling per
 * (origin, resolved IP) is therefore not needed: the pool never chooses an address itself.
 *
 * Bounded: at most `maxOrigins` pools (least recently used closed first, gracefully: requests
 * already queued on it complete) of `connectionsPerOrigin` sockets each; a pool idle for `idleMs`
 * is closed by a sweep.
 */
export class SinkPools {
  private readonly pools = new Map<string, Entry>();
  private readonly lookup: (hostname: string, options: LookupOptions, callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => void;
  private sweeper: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    policy: SinkPolicy,
    private readonly opts: SinkPoolOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.lookup = (hostname, options, callback) => {
      policy.resolveAllowed(hostname).then(
        (addresses) => {
          if (options.all) callback(null, addresses);
          else {
            const first = addresses.find((a) => !options.family || a.family === options.family) ?? addresses[0];
            callback(null, first?.address ?? '', first?.family);
          }
        },
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), ''),
      );
    };
  }

  /** Pools open right now. */
  get size(): number {
    return this.pools.size;
  }

  /** Runs `fn` on the pool of `origin` (created on first use), counting it busy meanwhile. */
  async use<T>(origin: string, fn: (pool: Pool) => Promise<T>): Promise<T> {
    if (this.closing) throw new Error('sink transport is closed');
    let entry = this.pools.get(origin);
    if (entry)
      this.pools.delete(origin); // re-inserted below: Map order is least recently used first
    else entry = this.open(origin);
    this.pools.set(origin, entry);
    entry.inFlight++;
    try {
      return await fn(entry.pool);
    } finally {
      entry.inFlight--;
      entry.lastUsed = this.now();
    }
  }

  /** Closes the pools idle for `idleMs` or more; returns how many. Run by the sweep timer, exposed for tests. */
  sweep(): number {
    const limit = this.now() - this.opts.idleMs;
    let closed = 0;
    for (const [origin, e] of this.pools) {
      if (e.inFlight === 0 && e.lastUsed <= limit) {
        this.retire(origin, e);
        closed++;
      }
    }
    if (this.pools.size === 0) this.stopSweeper();
    return closed;
  }

  /** Closes every pool (waiting for the requests on them). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopSweeper();
      const all = [...this.pools.values()].map((e) => e.pool.close().catch(() => undefined));
      this.pools.clear();
      await Promise.all(all);
    })();
    return this.closing;
  }

  private open(origin: string): Entry {
    if (this.pools.size >= this.opts.maxOrigins) {
      const [oldest, e] = this.pools.entries().next().value ?? [];
      if (oldest !== undefined && e) this.retire(oldest, e);
    }
    const pool = new Pool(origin, {
      connections: this.opts.connectionsPerOrigin,
      connect: { lookup: this.lookup, timeout: this.opts.timeoutMs },
      headersTimeout: this.opts.timeoutMs,
      bodyTimeout: this.opts.timeoutMs,
    });
    this.startSweeper();
    return { pool, inFlight: 0, lastUsed: this.now() };
  }

  private retire(origin: string, e: Entry): void {
    this.pools.delete(origin);
    e.pool.close().catch(() => undefined);
  }

  private startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, Math.floor(this.opts.idleMs / 2)));
    this.sweeper.unref();
  }

  private stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
