import { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { toErrorInfo } from '../common/http/error-mapping';
import type { RootLogger } from '../common/logging/root-logger';
import { newInstanceId } from '../common/lifecycle/instance-id';
import { withDeadline } from '../common/lifecycle/shutdown-deadline';
import { guard, keys } from '../store/redis/redis-client';
import { duplicateFollowed } from '../store/redis/sentinel-failover';
import { Cluster, ForwardedReply, ForwardedRequest, ForwardOutcome } from './cluster';

/** How long a survivor holds the adoption lock of a lost instance (released when done). */
const ADOPT_LOCK_MS = 30_000;
/** A graceful drain gives the hand-over (ending calls in setup) this long before releasing the lease. */
const DRAIN_HANDOVER_MS = 3_000;

type Message = { t: 'q'; cid: string; from: string; req: ForwardedRequest } | { t: 'r'; cid: string; rep: ForwardedReply };

export interface RedisClusterOptions {
  prefix: string;
  /** Lease of an instance: heartbeat every third of it; lapsed → its sessions are adopted. */
  leaseMs: number;
  forwardTimeoutMs: number;
  /** This instance's id (`INSTANCE_ID`); a new one when absent. */
  instanceId?: string;
}

/**
 * Cluster on Redis. Keys (tag `{cl}`, apart from the session aggregate):
 *
 *   P{cl}:instances       zset instanceId → lease end (ms, the writer's clock); one ZADD per heartbeat
 *   P{cl}:adopt:<id>      string survivor id, PX: who adopts the sessions of lost instance <id>
 *   P{cl}:inst:<id>       pub/sub channel of instance <id>: forwarded requests and their replies
 *   P{cl}:released        pub/sub channel: an instance released its lease (graceful drain), sweep now
 *
 * Cost: per instance one ZADD and one ZRANGEBYSCORE every leaseMs/3; nothing per call. A forwarded
 * request costs two PUBLISH; an adoption one ZRANGE of the active sessions and a read per session.
 */
export class RedisCluster extends Cluster implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly instanceId: string;
  private readonly k;
  private readonly sessionsActive: string;
  private sub: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private stopped = false;
  /**
   * No sweep before this time: after our own heartbeat failed (a Redis outage stops every
   * instance's heartbeat alike), the others get a whole lease to renew theirs before we read a
   * lapsed lease as a lost instance.
   */
  private sweepNotBefore = 0;
  private readonly waiting = new Map<string, (o: ForwardOutcome) => void>();

  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisClusterOptions,
    private readonly logger: RootLogger,
  ) {
    super();
    this.instanceId = opts.instanceId ?? newInstanceId();
    const p = `${opts.prefix}{cl}:`;
    this.k = { instances: `${p}instances`, lock: (id: string) => `${p}adopt:${id}`, channel: (id: string) => `${p}inst:${id}`, released: `${p}released` };
    this.sessionsActive = keys(opts.prefix).sessionsActive();
  }

  async onApplicationBootstrap(): Promise<void> {
    const sub = duplicateFollowed(this.redis);
    this.sub = sub;
    sub.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'redis subscriber connection error'));
    sub.on('message', (channel: string, text: string) => this.onMessage(channel, text));
    const subscribe = (): Promise<unknown> => sub.subscribe(this.k.channel(this.instanceId), this.k.released);
    // REDIS_BOOT=retry: Redis may answer only later; (re)subscribing on every connection is harmless
    sub.on('ready', () => void subscribe().catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'cluster channel not subscribed')));
    try {
      // the gateway's client connects lazily, and so does its duplicate
      if (sub.status === 'wait') await sub.connect();
      await subscribe();
    } catch (err) {
      // until subscribed, requests for this instance's sessions are handled where they land
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'cluster channel not subscribed yet');
    }
    this.timer = setInterval(() => void this.tick(), Math.max(200, Math.floor(this.opts.leaseMs / 3)));
    this.timer.unref();
    await this.tick();
    this.logger.info({ instanceId: this.instanceId, leaseMs: this.opts.leaseMs }, 'cluster member started');
  }

  /**
   * Drain: hand over (drain handlers), then release the lease so that a survivor adopts at once.
   * Without a drain (crash, or a close in tests) the lease is left to lapse.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.draining) {
      const handOver = (async () => {
        for (const h of this.drainHandlers) await h().catch((err: unknown) => this.logger.warn({ err }, 'drain hand-over failed'));
      })();
      await withDeadline(handOver, DRAIN_HANDOVER_MS, () => this.logger.warn('drain hand-over did not finish in time; releasing the lease anyway'));
      await this.release().catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not release the cluster lease'));
    }
    for (const done of this.waiting.values()) done({ kind: 'timeout' });
    this.waiting.clear();
    await this.sub?.quit().catch(() => this.sub?.disconnect());
  }

  async forward(owner: string, req: ForwardedRequest): Promise<ForwardOutcome> {
    const cid = randomUUID();
    const answered = new Promise<ForwardOutcome>((resolve) => {
      const timer = setTimeout(() => done({ kind: 'timeout' }), this.opts.forwardTimeoutMs);
      const done = (o: ForwardOutcome): void => {
        clearTimeout(timer);
        this.waiting.delete(cid);
        resolve(o);
      };
      this.waiting.set(cid, done);
    });
    const message: Message = { t: 'q', cid, from: this.instanceId, req };
    let receivers: number;
    try {
      receivers = await guard('cluster.forward', () => this.redis.publish(this.k.channel(owner), JSON.stringify(message)));
    } catch (err) {
      this.waiting.get(cid)?.({ kind: 'timeout' });
      throw err;
    }
    if (receivers === 0 && !(await this.heldByOtherNode(owner))) this.waiting.get(cid)?.({ kind: 'no-listener' });
    return answered;
  }

  /**
   * On a Redis Cluster PUBLISH counts only the subscribers of the node it was sent to; the message
   * still reaches the others over the cluster bus. A 0 there means "nobody" only when the owner's
   * lease has lapsed too; while it holds one, its reply (or the timeout) decides.
   */
  private async heldByOtherNode(owner: string): Promise<boolean> {
    if (!(this.redis as Redis & { isCluster?: boolean }).isCluster) return false;
    const leaseEnd = await this.redis.zscore(this.k.instances, owner).catch(() => null);
    return leaseEnd !== null && Number(leaseEnd) > Date.now();
  }

  async activeSessionIds(): Promise<string[]> {
    return guard('cluster.activeSessions', () => this.redis.zrange(this.sessionsActive, 0, -1));
  }

  /** The lease ends now (score 0) and survivors are told to sweep. */
  private async release(): Promise<void> {
    await this.redis.zadd(this.k.instances, 0, this.instanceId);
    await this.redis.publish(this.k.released, this.instanceId);
    this.logger.info({ instanceId: this.instanceId }, 'cluster lease released: survivors adopt the sessions of this instance');
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.redis.zadd(this.k.instances, Date.now() + this.opts.leaseMs, this.instanceId);
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'cluster heartbeat failed');
      this.sweepNotBefore = Date.now() + this.opts.leaseMs;
      return;
    }
    if (Date.now() >= this.sweepNotBefore) await this.sweep();
  }

  /** Instances whose lease lapsed: one survivor (the lock's holder) adopts each one's sessions. */
  private sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        const lost = (await this.redis.zrangebyscore(this.k.instances, '-inf', Date.now())).filter((id) => id !== this.instanceId);
        for (const owner of lost) {
          if (this.stopped) return;
          const locked = await this.redis.set(this.k.lock(owner), this.instanceId, 'PX', ADOPT_LOCK_MS, 'NX');
          if (locked !== 'OK') continue;
          // read again under the lock: another survivor may have adopted it meanwhile (and removed it), or it came back
          const lease = await this.redis.zscore(this.k.instances, owner);
          if (lease === null || Number(lease) >= Date.now()) {
            await this.redis.del(this.k.lock(owner));
            continue;
          }
          this.logger.warn({ lostInstance: owner }, 'cluster member lost (lease lapsed or released): adopting its sessions');
          try {
            for (const h of this.lostHandlers) await h(owner);
            // the lock is left to expire: a sweep that read the lapsed lease before this removal finds it locked
            await this.redis.zrem(this.k.instances, owner);
          } catch (err) {
            await this.redis.del(this.k.lock(owner));
            throw err;
          }
        }
      } catch (err) {
        this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'cluster sweep failed; retried at the next heartbeat');
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  private onMessage(channel: string, text: string): void {
    if (channel === this.k.released) {
      if (text !== this.instanceId) void this.sweep();
      return;
    }
    let m: Message;
    try {
      m = JSON.parse(text) as Message;
    } catch {
      return;
    }
    if (m.t === 'r') {
      this.waiting.get(m.cid)?.({ kind: 'answered', reply: m.rep });
      return;
    }
    void this.answer(m.from, m.cid, m.req);
  }

  private async answer(from: string, cid: string, req: ForwardedRequest): Promise<void> {
    let rep: ForwardedReply;
    try {
      if (!this.forwardHandler) throw new Error('no handler for forwarded requests');
      rep = await this.forwardHandler(req);
    } catch (err) {
      const { unexpected, ...error } = toErrorInfo(err);
      if (unexpected) this.logger.error({ err, op: req.op }, 'forwarded request failed');
      rep = { ok: false, error };
    }
    const reply: Message = { t: 'r', cid, rep };
    await this.redis
      .publish(this.k.channel(from), JSON.stringify(reply))
      .catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not return a forwarded reply'));
  }
}
