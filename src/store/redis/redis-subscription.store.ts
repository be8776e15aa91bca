import type Redis from 'ioredis';
import { Clock } from '../../common/clock';
import { QuotaExceeded, quotaExceeded } from '../quota';
import { StoredSubscription, SUBSCRIPTION_GRACE_MS, SubscriptionStore, TerminationReason } from '../subscription-store';
import { bindScripts, guard, keys } from './redis-client';
import { subscriptionScripts } from './lua-scripts';

type Scripts = {
  subCreate(rec: string, dev: string, own: string, due: string, act: string, json: string, ttl: number, endsAt: string, id: string, now: number, max: number): Promise<number>;
  subUpdate(rec: string, dev: string, own: string, due: string, act: string, expected: number, json: string, ttl: number, endsAt: string, id: string): Promise<number>;
  subEnd(rec: string, dev: string, own: string, due: string, act: string, json: string, ttl: number, id: string): Promise<number>;
  subPurge(rec: string, dev: string, own: string, due: string, act: string, id: string): Promise<number>;
  /** numkeys, due, the rec key of each id, now, leaseMs, the ids. */
  subClaim(numkeys: number, ...args: (string | number)[]): Promise<string[]>;
};

/** SubscriptionStore on Redis (shared by every gateway instance). */
export class RedisSubscriptionStore extends SubscriptionStore {
  private readonly k;
  private readonly redis: Redis;
  private readonly lua: Scripts;

  constructor(
    redis: Redis,
    prefix: string,
    private readonly clock: Clock = Clock.system,
  ) {
    super();
    this.k = keys(prefix);
    this.redis = redis;
    this.lua = bindScripts(redis, subscriptionScripts) as unknown as Scripts;
  }

  /** Record TTL in ms, -1 when it never expires. */
  private ttl(sub: StoredSubscription): number {
    return sub.endsAt === undefined ? -1 : Math.max(1000, sub.endsAt + SUBSCRIPTION_GRACE_MS - this.clock.now());
  }

  private parse(v: string | null | undefined, d: string | null | undefined): StoredSubscription | undefined {
    if (!v || !d) return undefined;
    const s = JSON.parse(d) as StoredSubscription;
    s.version = Number(v);
    return s;
  }

  private async activeAmong(indexKey: string, op: string): Promise<StoredSubscription[]> {
    const ids = await guard(op, () => this.redis.smembers(indexKey));
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hmget(this.k.subscription(id), 'v', 's', 'd');
    const rows = await guard(op, async () => (await pipe.exec()) ?? []);
    const now = this.clock.now();
    const out: StoredSubscription[] = [];
    const dangling: string[] = [];
    rows.forEach(([err, row], i) => {
      const [v, s, d] = !err && Array.isArray(row) ? (row as (string | null)[]) : [];
      const sub = this.parse(v, d);
      if (!sub || s !== 'ACTIVE') dangling.push(ids[i] ?? '');
      else if (sub.endsAt === undefined || sub.endsAt > now) out.push(sub);
    });
    if (dangling.length > 0) await guard(op, () => this.redis.srem(indexKey, ...dangling));
    return out;
  }

  async create(sub: StoredSubscription, maxPerDevice = 0): Promise<QuotaExceeded | undefined> {
    const { k } = this;
    const stored: StoredSubscription = { ...sub, state: 'ACTIVE', version: 1 };
    const created = await guard('subscription.create', () =>
      this.lua.subCreate(
        k.subscription(sub.id),
        k.subscriptionsByDevice(sub.phoneNumber, sub.deviceId),
        k.subscriptionsByOwner(sub.owner),
        k.subscriptionsDue(),
        k.subscriptionsActiveByDevice(sub.phoneNumber, sub.deviceId),
        JSON.stringify(stored),
        this.ttl(stored),
        sub.endsAt === undefined ? '' : String(sub.endsAt),
        sub.id,
        this.clock.now(),
        maxPerDevice,
      ),
    );
    return created < 0 ? quotaExceeded(-created, maxPerDevice) : undefined;
  }

  async get(id: string): Promise<StoredSubscription | undefined> {
    const [v, s, d] = await guard('subscription.get', () => this.redis.hmget(this.k.subscription(id), 'v', 's', 'd'));
    const sub = this.parse(v, d);
    if (sub && (s === 'ACTIVE' || s === 'ENDED')) sub.state = s;
    return sub;
  }

  async listByOwner(owner: string): Promise<StoredSubscription[]> {
    return this.activeAmong(this.k.subscriptionsByOwner(owner), 'subscription.listByOwner');
  }

  async findByDevice(phoneNumber: string, deviceId: string): Promise<StoredSubscription[]> {
    return this.activeAmong(this.k.subscriptionsByDevice(phoneNumber, deviceId), 'subscription.findByDevice');
  }

  async update(next: StoredSubscription, expectedVersion: number): Promise<StoredSubscription | undefined> {
    const { k } = this;
    const stored: StoredSubscription = { ...next, state: 'ACTIVE', version: expectedVersion + 1 };
    const ok = await guard('subscription.update', () =>
      this.lua.subUpdate(
        k.subscription(next.id),
        k.subscriptionsByDevice(next.phoneNumber, next.deviceId),
        k.subscriptionsByOwner(next.owner),
        k.subscriptionsDue(),
        k.subscriptionsActiveByDevice(next.phoneNumber, next.deviceId),
        expectedVersion,
        JSON.stringify(stored),
        this.ttl(stored),
        next.endsAt === undefined ? '' : String(next.endsAt),
        next.id,
      ),
    );
    return ok === 1 ? stored : undefined;
  }

  async end(id: string, reason: TerminationReason): Promise<StoredSubscription | undefined> {
    const cur = await this.get(id);
    if (!cur || cur.state !== 'ACTIVE') return undefined;
    const { k } = this;
    const ended: StoredSubscription = { ...cur, state: 'ENDED', terminationReason: reason };
    const v = await guard('subscription.end', () =>
      this.lua.subEnd(
        k.subscription(id),
        k.subscriptionsByDevice(cur.phoneNumber, cur.deviceId),
        k.subscriptionsByOwner(cur.owner),
        k.subscriptionsDue(),
        k.subscriptionsActiveByDevice(cur.phoneNumber, cur.deviceId),
        JSON.stringify(ended),
        SUBSCRIPTION_GRACE_MS,
        id,
      ),
    );
    return v > 0 ? { ...ended, version: v } : undefined;
  }

  async purge(id: string): Promise<void> {
    const cur = await this.get(id);
    const { k } = this;
    await guard('subscription.purge', () =>
      this.lua.subPurge(
        k.subscription(id),
        cur ? k.subscriptionsByDevice(cur.phoneNumber, cur.deviceId) : k.subscriptionsByDevice('', ''),
        cur ? k.subscriptionsByOwner(cur.owner) : k.subscriptionsByOwner(''),
        k.subscriptionsDue(),
        cur ? k.subscriptionsActiveByDevice(cur.phoneNumber, cur.deviceId) : k.subscriptionsActiveByDevice('', ''),
        id,
      ),
    );
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<StoredSubscription[]> {
    const { k } = this;
    const ids = await guard('subscription.claimDue', () => this.redis.zrangebyscore(k.subscriptionsDue(), '-inf', now, 'LIMIT', 0, limit));
    if (ids.length === 0) return [];
    const flat = await guard('subscription.claimDue', () => this.lua.subClaim(1 + ids.length, k.subscriptionsDue(), ...ids.map((id) => k.subscription(id)), now, leaseMs, ...ids));
    const out: StoredSubscription[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const s = this.parse(flat[i], flat[i + 1]);
      if (s) out.push({ ...s, state: 'ACTIVE' });
    }
    return out;
  }
}
