import type Redis from 'ioredis';
import { Clock } from '../../common/clock';
import { AckNext, ClaimedQueue, EventQueue, FanOutRequest, FanOutResult, QueuedEvent } from '../event-queue';
import { eventQueueScripts as lua } from './lua-scripts';
import { guard, Keys, keys, RunScript, scriptRunner } from './redis-client';
import { claimedFrom, MAX_STALE_REPLIES, parseEntry, parseSubscription, RedisFanOut, Reply, str } from './redis-fan-out';

/** EventQueue on Redis: a list per subscription, a `ready` sorted set and per-subscription lease keys. */
export class RedisEventQueue extends EventQueue {
  private readonly k: Keys;
  private readonly run: RunScript;
  private readonly fanOuts: RedisFanOut;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly clock: Clock = Clock.system,
  ) {
    super();
    this.k = keys(prefix);
    this.run = scriptRunner(redis);
    this.fanOuts = new RedisFanOut(this.k);
  }

  async enqueue(event: Omit<QueuedEvent, 'sequence'>): Promise<QueuedEvent> {
    const { k } = this;
    const s = event.subscriptionId;
    const json = JSON.stringify(event);
    const sequence = await guard('eventQueue.enqueue', () =>
      this.run<number>(lua.evEnqueue, [k.queue(s), k.queueSequence(s), k.queuesReady(), k.queueBacklog()], [event.id, json, this.clock.now(), s]),
    );
    // a copy parsed from the JSON queued (as a read returns it; cheaper than structuredClone)
    return { ...(JSON.parse(json) as Omit<QueuedEvent, 'sequence'>), sequence };
  }

  async renew(subscriptionId: string, owner: string, leaseMs: number): Promise<boolean> {
    const { k } = this;
    const ok = await guard('eventQueue.renew', () => this.run<number>(lua.evRenew, [k.queueLease(subscriptionId), k.queuesReady()], [owner, leaseMs, this.clock.now(), subscriptionId]));
    return ok === 1;
  }

  async ack(subscriptionId: string, eventId: string, owner: string): Promise<boolean> {
    const { k } = this;
    const s = subscriptionId;
    const ok = await guard('eventQueue.ack', () => this.run<number>(lua.evAck, [k.queueLease(s), k.queue(s), k.queueHead(s), k.queueBacklog()], [owner, `${eventId}\n`]));
    return ok === 1;
  }

  async retryAt(subscriptionId: string, eventId: string, attempts: number, notBefore: number, owner: string): Promise<boolean> {
    const { k } = this;
    const s = subscriptionId;
    const ok = await guard('eventQueue.retryAt', () => this.run<number>(lua.evRetry, [k.queueLease(s), k.queue(s), k.queueHead(s), k.queuesReady()], [owner, `${eventId}\n`, attempts, notBefore, s]));
    return ok === 1;
  }

  /**
   * A leased queue has its lease end as its `ready` score, so only queues scored after `now` are
   * looked at (one ZRANGEBYSCORE, one GET each); the release itself checks the owner atomically.
   */
  async releaseAllOf(owner: string, now: number): Promise<string[]> {
    const { k } = this;
    const ids = await guard('eventQueue.releaseAllOf', () => this.redis.zrangebyscore(k.queuesReady(), `(${now}`, '+inf'));
    const holders = await Promise.all(ids.map((s) => guard('eventQueue.releaseAllOf', () => this.redis.get(k.queueLease(s)))));
    const mine = ids.filter((_, i) => holders[i] === owner);
    for (const s of mine) await this.release(s, owner, now);
    return mine;
  }

  async release(subscriptionId: string, owner: string, readyAt: number): Promise<void> {
    const { k } = this;
    const s = subscriptionId;
    await guard('eventQueue.release', () => this.run<number>(lua.evRelease, [k.queueLease(s), k.queue(s), k.queuesReady()], [owner, readyAt, s]));
  }

  async discard(subscriptionId: string): Promise<string[]> {
    const { k } = this;
    const s = subscriptionId;
    const items = await guard('eventQueue.discard', () => this.run<string[]>(lua.evDiscard, [k.queue(s), k.queueSequence(s), k.queueHead(s), k.queueLease(s), k.queuesReady(), k.queueBacklog()], [s]));
    return items.map((e) => e.slice(0, Math.max(0, e.indexOf('\n'))));
  }

  async fanOut(req: FanOutRequest): Promise<FanOutResult> {
    return guard('eventQueue.fanOut', async () => {
      for (let stale = 0; stale < MAX_STALE_REPLIES; stale++) {
        const attempt = this.fanOuts.attempt(req, this.clock.now());
        const r = await this.run<Reply[]>(lua.evFanOut, attempt.keys, attempt.args);
        const result = attempt.read(r[0], r[1], r[2], r[1]);
        if (result) return result;
      }
      throw new Error(`the subscriptions of ${req.phoneNumber}|${req.deviceId} kept changing during a fan-out`);
    });
  }

  async claimReadyHeads(now: number, limit: number, leaseMs: number, owner: string): Promise<ClaimedQueue[]> {
    const { k } = this;
    const ids = await guard('eventQueue.claimReadyHeads', () => this.redis.zrangebyscore(k.queuesReady(), '-inf', now, 'LIMIT', 0, limit));
    if (ids.length === 0) return [];
    const perId = ids.flatMap((id) => [k.queue(id), k.queueLease(id), k.queueHead(id), k.subscription(id)]);
    const rows = await guard('eventQueue.claimReadyHeads', () => this.run<Reply[]>(lua.evClaimHeads, [k.queuesReady(), ...perId], [now, leaseMs, owner, ...ids]));
    const out: ClaimedQueue[] = [];
    for (const row of rows) {
      if (!Array.isArray(row)) continue;
      const c = claimedFrom(str(row[0]) ?? '', row, 1);
      if (c) out.push(c);
    }
    return out;
  }

  async ackAndNext(subscriptionId: string, eventId: string, owner: string, leaseMs: number): Promise<AckNext> {
    const { k } = this;
    const s = subscriptionId;
    const row = await guard('eventQueue.ackAndNext', () =>
      this.run<Reply[]>(lua.evAckNext, [k.queueLease(s), k.queue(s), k.queueHead(s), k.queueBacklog(), k.queuesReady(), k.subscription(s)], [owner, `${eventId}\n`, leaseMs, this.clock.now(), s]),
    );
    const code = Number(row[0]);
    if (code === 1) return { kind: 'empty' };
    if (code !== 2) return { kind: 'lost' };
    const entry = str(row[1]);
    if (entry === undefined) return { kind: 'lost' };
    return { kind: 'next', next: { subscriptionId: s, head: { event: parseEntry(entry), attempts: 0 }, subscription: parseSubscription(row[2], row[3], row[4]) } };
  }

  async backlog(): Promise<number> {
    const n = await guard('eventQueue.backlog', () => this.redis.get(this.k.queueBacklog()));
    return Math.max(0, Number(n ?? 0));
  }
}
