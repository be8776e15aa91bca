import Redis from 'ioredis';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { RedisNode } from '../../config/redis-topology';

/** Sentinel channel announcing a promotion: `<master-name> <old-ip> <old-port> <new-ip> <new-port>`. */
export const SWITCH_MASTER_CHANNEL = '+switch-master';
const reconnectDelay = (times: number): number => Math.min(times * 200, 2000);

export interface SentinelFailoverOptions {
  sentinels: RedisNode[];
  /** The monitored master's name (REDIS_SENTINEL_NAME). */
  name: string;
  sentinelPassword?: string | undefined;
}

/**
 * Moves the gateway's Sentinel-managed connections to a new master as soon as a sentinel announces
 * the promotion (`+switch-master`), instead of when the connection to the old master drops. Without
 * it, a master that the sentinels replaced but that never closed its connections kept them: one
 * frozen or cut off without a reset (a paused VM, a partition) left every request waiting for its
 * command timeout until the old master came back, and one still running (a second failover after a
 * flapping down-detection) answered reads with stale data and got no write acknowledged by a
 * replica (`WAIT`: 503) until the sentinels turned it into a replica, about 10 s later.
 *
 * One subscriber connection per sentinel (any of them may be the one still reachable), each
 * reconnecting on its own. A connection already at the announced address is left alone; the others
 * are dropped and reconnect at once (its first retry delay), asking the sentinels for the master
 * again (ioredis resends their pending commands and renews their subscriptions). Replaces ioredis'
 * `failoverDetector`, whose subscribers outlived `disconnect()` (see createRedisClient).
 */
export class SentinelFailoverFollower {
  private readonly followed = new Set<Redis>();
  private readonly subscribers: Redis[] = [];
  /** Sentinels whose subscriber is down, so that each outage is logged once. */
  private readonly down = new Set<string>();
  private lastAnnounced: string | undefined;

  constructor(
    private readonly opts: SentinelFailoverOptions,
    private readonly logger: Logger,
  ) {}

  /** Connections to move on a failover (the command client, the cluster's subscriber); forgotten once closed for good. */
  follow(client: Redis): void {
    this.followed.add(client);
    client.once('end', () => this.followed.delete(client));
  }

  /**
   * Subscribes to every sentinel's announcements, now or whenever each answers (ioredis queues the
   * SUBSCRIBE until connected and renews it on every reconnection). `subscribed` settles once one is.
   */
  start(): void {
    if (this.subscribers.length > 0) return;
    const subscribed = this.opts.sentinels.map((s) => {
      const where = `${s.host}:${s.port}`;
      const sub = new Redis({
        host: s.host,
        port: s.port,
        ...(this.opts.sentinelPassword !== undefined && { password: this.opts.sentinelPassword }),
        connectTimeout: 2000,
        retryStrategy: reconnectDelay,
        maxRetriesPerRequest: null,
      });
      this.subscribers.push(sub);
      sub.on('error', (err: Error) => {
        if (this.down.has(where)) return;
        this.down.add(where);
        this.logger.warn({ sentinel: where, err: err.message }, 'Redis Sentinel unreachable: its failover announcements are missed until it answers');
      });
      sub.on('ready', () => this.down.delete(where));
      sub.on('message', (_channel: string, text: string) => this.onSwitch(text));
      return sub.subscribe(SWITCH_MASTER_CHANNEL);
    });
    this.subscribed = Promise.any(subscribed).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Settles once subscribed to one sentinel (or the subscribers were stopped first). */
  subscribed: Promise<void> = Promise.resolve();

  /** Closes the subscribers (the followed connections are their owners'). */
  stop(): void {
    for (const sub of this.subscribers) sub.disconnect();
    this.subscribers.length = 0;
  }

  /** One `+switch-master` message (public for the unit tests). */
  onSwitch(text: string): void {
    const [name, , , host, port] = text.split(' ');
    if (name !== this.opts.name || host === undefined || port === undefined) return;
    const to = `${host}:${port}`;
    // every sentinel announces the same switch
    if (to === this.lastAnnounced) return;
    this.lastAnnounced = to;
    let moved = 0;
    for (const client of this.followed) {
      if (client.status !== 'ready' || connectedTo(client, host, Number(port))) continue;
      // destroyed, not ended: a frozen master never answers the FIN, so its socket would not close
      // (ioredis then reconnects as after any dropped connection)
      client.stream.destroy();
      moved++;
    }
    this.logger.warn({ master: to, reconnected: moved }, 'Redis Sentinel promoted a new master: connections moved to it');
  }
}

/** Whether `client`'s socket is connected to `host:port` (an IPv4 address may show as IPv4-mapped IPv6). */
function connectedTo(client: Redis, host: string, port: number): boolean {
  const socket = client.stream as { remoteAddress?: string; remotePort?: number } | undefined;
  if (socket?.remotePort !== port || socket.remoteAddress === undefined) return false;
  const remote = socket.remoteAddress.replace(/^::ffff:/i, '');
  // a sentinel announcing host names (announce-hostnames) names no address to compare: move
  return isIP(host) !== 0 && remote.toLowerCase() === host.toLowerCase();
}

const FOLLOWER = Symbol('sentinel failover follower');
type WithFollower = Redis & { [FOLLOWER]?: SentinelFailoverFollower };

/** Attaches `follower` to the client it follows, for `followerOf` and `duplicateFollowed`. */
export function attachFollower(client: Redis, follower: SentinelFailoverFollower): void {
  follower.follow(client);
  (client as WithFollower)[FOLLOWER] = follower;
}

/** The follower of a Sentinel-managed client (undefined for other topologies). */
export const followerOf = (client: Redis): SentinelFailoverFollower | undefined => (client as WithFollower)[FOLLOWER];

/** `client.duplicate()`, moved on a failover like `client` (a subscriber on a replaced master would miss every publish). */
export function duplicateFollowed(client: Redis): Redis {
  const copy = client.duplicate();
  followerOf(client)?.follow(copy);
  return copy;
}
