import type Redis from 'ioredis';
import { Clock } from '../../common/clock';
import { AckNext, ClaimedQueue, EventQueue, FanOutRequest, FanOutResult, QueuedEvent } from '../event-queue';
import type { StoredSubscription } from '../subscription-store';
import { eventQueueScripts } from './lua-scripts';
import { defineScripts, guard, Keys, keys } from './redis-client';

/** Devices whose subscription ids this instance remembers for `evFanOut` (see `DeviceMembers`). */
const MAX_CACHED_DEVICES = 10_000;
/** `evFanOut` answers "stale" at most this often in a row before the publish fails. */
const MAX_STALE_REPLIES = 5;

type Reply = string | number | null | Reply[];

type Scripts = {
  /** numkeys, keys…, argv… (a variable number of keys). */
  evFanOut(numkeys: number, ...args: (string | number)[]): Promise<Reply[]>;
  /** numkeys, ready, (queue, lease, head, rec) of each id, now, leaseMs, owner, the ids. */
  evClaimHeads(numkeys: number, ...args: (string | number)[]): Promise<Reply[]>;
  evAckNext(lease: string, q: string, head: string, backlog: string, ready: string, rec: string, owner: string, idPrefix: string, leaseMs: number, now: number, id: string): Promise<Reply[]>;
  evEnqueue(q: string, seq: string, ready: string, backlog: string, id: string, json: string, now: number, sub: string): Promise<number>;
  evRenew(lease: string, ready: string, owner: string, leaseMs: number, now: number, id: string): Promise<number>;
  evAck(lease: string, q: string, head: string, backlog: string, owner: string, idPrefix: string): Promise<number>;
  evRetry(lease: string, q: string, head: string, ready: string, owner: string, idPrefix: string, attempts: number, notBefore: number, id: string): Promise<number>;
  evRelease(lease: string, q: string, ready: string, owner: string, readyAt: number, id: string): Promise<number>;
  evDiscard(q: string, seq: string, head: string, lease: string, ready: string, backlog: string, id: string): Promise<string[]>;
};

function parseEntry(entry: string): QueuedEvent {
  const nl = entry.indexOf('\n');
  return JSON.parse(entry.slice(nl + 1)) as QueuedEvent;
}

const str = (r: Reply | undefined): string | undefined => (typeof r === 'string' ? r : undefined);
const strings = (r: Reply | undefined): string[] => (Array.isArray(r) ? r.filter((x): x is string => typeof x === 'string') : []);

/** A subscription record from its hash fields { v, s, d } (as `RedisSubscriptionStore#get`). */
function parseSubscription(v: Reply | undefined, s: Reply | undefined, d: Reply | undefined): StoredSubscription | undefined {
  const vs = str(v);
  const ds = str(d);
  if (!vs || !ds) return undefined;
  const sub = JSON.parse(ds) as StoredSubscription;
  sub.version = Number(vs);
  if (s === 'ACTIVE' || s === 'ENDED') sub.state = s;
  return sub;
}

/** `{head, attempts, v, s, d}` starting at `row[i]` → ClaimedQueue (undefined if there is no head). */
function claimedFrom(subscriptionId: string, row: Reply[], i: number): ClaimedQueue | undefined {
  const entry = str(row[i]);
  if (entry === undefined) return undefined;
  const attempts = Number(str(row[i + 1]) ?? row[i + 1] ?? 0);
  return { subscriptionId, head: { event: parseEntry(entry), attempts }, subscription: parseSubscription(row[i + 2], row[i + 3], row[i + 4]) };
}

/**
 * The subscription ids of each device's index, as this instance last saw them. `evFanOut` must be
 * given every key it touches, so the caller names the subscriptions before the script reads the
 * index; the script checks the names against the index and answers "stale" (with the actual ids)
 * when they differ. Remembering them keeps a publish at one round trip; a device whose
 * subscriptions changed elsewhere costs one more. Least recently used devices are forgotten first.
 */
class DeviceMembers {
  private readonly ids = new Map<string, string[]>();
  get(device: string): string[] {
    const ids = this.ids.get(device);
    if (!ids) return [];
    this.ids.delete(device);
    this.ids.set(device, ids);
    return ids;
  }
  set(device: string, ids: string[]): void {
    this.ids.delete(device);
    this.ids.set(device, ids);
    if (this.ids.size > MAX_CACHED_DEVICES) this.ids.delete(this.ids.keys().next().value ?? device);
  }
}

/** EventQueue on Redis: a list per subscription, a `ready` sorted set and per-subscription lease keys. */
export class RedisEventQueue extends EventQueue {
  private readonly k: Keys;
  private readonly redis: Redis & Scripts;
  private readonly members = new DeviceMembers();

  constructor(
    redis: Redis,
    prefix: string,
    private readonly clock: Clock = Clock.system,
  ) {
    super();
    this.k = keys(prefix);
    defineScripts(redis, eventQueueScripts);
    this.redis = redis as Redis & Scripts;
  }

  async enqueue(event: Omit<QueuedEvent, 'sequence'>): Promise<QueuedEvent> {
    const { k } = this;
    const s = event.subscriptionId;
    const sequence = await guard('eventQueue.enqueue', () =>
      this.redis.evEnqueue(k.queue(s), k.queueSequence(s), k.queuesReady(), k.queueBacklog(), event.id, JSON.stringify(event), this.clock.now(), s),
    );
    return { ...structuredClone(event), sequence };
  }

  async renew(subscriptionId: string, owner: string, leaseMs: number): Promise<boolean> {
    const { k } = this;
    const ok = await guard('eventQueue.renew', () => this.redis.evRenew(k.queueLease(subscriptionId), k.queuesReady(), owner, leaseMs, this.clock.now(), subscriptionId));
    return ok === 1;
  }

  async ack(subscriptionId: string, eventId: string, owner: string): Promise<boolean> {
    const { k } = this;
    const s = subscriptionId;
    const ok = await guard('eventQueue.ack', () => this.redis.evAck(k.queueLease(s), k.queue(s), k.queueHead(s), k.queueBacklog(), owner, `${eventId}\n`));
    return ok === 1;
  }

  async retryAt(subscriptionId: string, eventId: string, attempts: number, notBefore: number, owner: string): Promise<boolean> {
    const { k } = this;
    const s = subscriptionId;
    const ok = await guard('eventQueue.retryAt', () => this.redis.evRetry(k.queueLease(s), k.queue(s), k.queueHead(s), k.queuesReady(), owner, `${eventId}\n`, attempts, notBefore, s));
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
    await guard('eventQueue.release', () => this.redis.evRelease(k.queueLease(s), k.queue(s), k.queuesReady(), owner, readyAt, s));
  }

  async discard(subscriptionId: string): Promise<string[]> {
    const { k } = this;
    const s = subscriptionId;
    const items = await guard('eventQueue.discard', () => this.redis.evDiscard(k.queue(s), k.queueSequence(s), k.queueHead(s), k.queueLease(s), k.queuesReady(), k.queueBacklog(), s));
    return items.map((e) => e.slice(0, Math.max(0, e.indexOf('\n'))));
  }

  async fanOut(req: FanOutRequest): Promise<FanOutResult> {
    const { k } = this;
    const rest: Omit<QueuedEvent, 'id' | 'subscriptionId' | 'sequence'> = {
      type: req.type,
      time: req.time,
      data: req.data,
      ...(req.correlator !== undefined ? { correlator: req.correlator } : {}),
    };
    const restJson = JSON.stringify(rest);
    const device = k.subscriptionsByDevice(req.phoneNumber, req.deviceId);
    const reply = await guard('eventQueue.fanOut', async () => {
      for (let stale = 0; ; stale++) {
        const ids = this.members.get(device);
        const perSub = ids.flatMap((id) => [k.subscription(id), k.queue(id), k.queueSequence(id), k.queueLease(id), k.queueHead(id)]);
        const keyList = [device, k.queuesReady(), k.queueBacklog(), ...perSub];
        const r = await this.redis.evFanOut(keyList.length, ...keyList, req.type, this.clock.now(), restJson, req.claim?.owner ?? '', req.claim?.leaseMs ?? 0, ids.length, ...ids, ...req.ids);
        if (Number(r[0]) !== -1) {
          const dangling = new Set(strings(r[2]));
          if (dangling.size > 0)
            this.members.set(
              device,
              ids.filter((id) => !dangling.has(id)),
            );
          return r;
        }
        this.members.set(device, strings(r[1]));
        if (stale + 1 >= MAX_STALE_REPLIES) throw new Error(`the subscriptions of ${device} kept changing during a fan-out`);
      }
    });
    const needed = Number(reply[0]);
    if (needed > 0) return { kind: 'need-ids', needed };
    const events: QueuedEvent[] = [];
    const claimed: ClaimedQueue[] = [];
    const rows = Array.isArray(reply[1]) ? reply[1] : [];
    rows.forEach((row, i) => {
      if (!Array.isArray(row)) return;
      const subscriptionId = str(row[0]) ?? '';
      events.push({ id: req.ids[i] ?? '', subscriptionId, ...structuredClone(rest), sequence: Number(row[1]) });
      if (Number(row[2]) === 1) {
        const c = claimedFrom(subscriptionId, row, 3);
        if (c) claimed.push(c);
      }
    });
    return { kind: 'enqueued', events, claimed };
  }

  async claimReadyHeads(now: number, limit: number, leaseMs: number, owner: string): Promise<ClaimedQueue[]> {
    const { k } = this;
    const ids = await guard('eventQueue.claimReadyHeads', () => this.redis.zrangebyscore(k.queuesReady(), '-inf', now, 'LIMIT', 0, limit));
    if (ids.length === 0) return [];
    const perId = ids.flatMap((id) => [k.queue(id), k.queueLease(id), k.queueHead(id), k.subscription(id)]);
    const rows = await guard('eventQueue.claimReadyHeads', () => this.redis.evClaimHeads(1 + perId.length, k.queuesReady(), ...perId, now, leaseMs, owner, ...ids));
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
      this.redis.evAckNext(k.queueLease(s), k.queue(s), k.queueHead(s), k.queueBacklog(), k.queuesReady(), k.subscription(s), owner, `${eventId}\n`, leaseMs, this.clock.now(), s),
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
