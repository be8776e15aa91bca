import type Redis from 'ioredis';
import { Clock } from '../../common/clock';
import { StoredSubscription, SUBSCRIPTION_GRACE_MS, SubscriptionStore, TerminationReason } from '../subscription-store';
import { defineScripts, guard } from './redis-client';

/**
 * Every key the subscription store writes. `prefix` is REDIS_KEY_PREFIX.
 * NOTE: kept here rather than in `redis-client.ts#keys` because that file belongs to the StoreModule;
 * fold it in there when convenient.
 */
export const subscriptionKeys = (prefix: string) => ({
  subscription: (id: string) => `${prefix}sub:${id}`,
  subscriptionsByDevice: (phoneNumber: string, deviceId: string) => `${prefix}subdev:${phoneNumber}|${deviceId}`,
  subscriptionsByOwner: (owner: string) => `${prefix}subown:${owner}`,
  /** Sorted set id → endsAt (or lease end while claimed) of ACTIVE subscriptions that end on their own. */
  subscriptionsDue: () => `${prefix}subdue`,
  /** Counter of ACTIVE subscriptions. */
  subscriptionsActive: () => `${prefix}subcount`,
});

// Records are hashes { v: version, s: state, d: JSON }. Index sets live as long as their longest
// member (PERSIST when a member never expires); dangling ids are dropped lazily on read.
const INDEX_TTL = `
local function extend(key, ttl)
  if ttl < 0 then redis.call('PERSIST', key) return end
  local cur = redis.call('PTTL', key)
  if cur >= 0 and cur < ttl then redis.call('PEXPIRE', key, ttl) end
end`;
// KEYS: rec, dev, own, due, count  ARGV: json, ttl(-1 none), endsAt('' none), id
const CREATE = `${INDEX_TTL}
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', 1, 's', 'ACTIVE', 'd', ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
local existed = {redis.call('EXISTS', KEYS[2]), redis.call('EXISTS', KEYS[3])}
redis.call('SADD', KEYS[2], ARGV[4]); redis.call('SADD', KEYS[3], ARGV[4])
if existed[1] == 0 and ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) else extend(KEYS[2], ttl) end
if existed[2] == 0 and ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) else extend(KEYS[3], ttl) end
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[4], tonumber(ARGV[3]), ARGV[4]) end
redis.call('INCR', KEYS[5])
return 1`;
// KEYS: rec, dev, own, due  ARGV: expected, json, ttl, endsAt, id
const UPDATE = `${INDEX_TTL}
local v = redis.call('HGET', KEYS[1], 'v')
if not v or tonumber(v) ~= tonumber(ARGV[1]) or redis.call('HGET', KEYS[1], 's') ~= 'ACTIVE' then return 0 end
redis.call('HSET', KEYS[1], 'v', tonumber(v) + 1, 'd', ARGV[2])
local ttl = tonumber(ARGV[3])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) else redis.call('PERSIST', KEYS[1]) end
extend(KEYS[2], ttl); extend(KEYS[3], ttl)
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[4], tonumber(ARGV[4]), ARGV[5]) else redis.call('ZREM', KEYS[4], ARGV[5]) end
return 1`;
// KEYS: rec, dev, own, due, count  ARGV: json(ended), ttl, id
const END = `
if redis.call('HGET', KEYS[1], 's') ~= 'ACTIVE' then return 0 end
local v = tonumber(redis.call('HGET', KEYS[1], 'v'))
redis.call('HSET', KEYS[1], 'v', v + 1, 's', 'ENDED', 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('SREM', KEYS[2], ARGV[3]); redis.call('SREM', KEYS[3], ARGV[3]); redis.call('ZREM', KEYS[4], ARGV[3])
redis.call('DECR', KEYS[5])
return v + 1`;
// KEYS: rec, dev, own, due, count  ARGV: id
const PURGE = `
local s = redis.call('HGET', KEYS[1], 's')
if s == 'ACTIVE' then redis.call('DECR', KEYS[5]) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1]); redis.call('SREM', KEYS[3], ARGV[1]); redis.call('ZREM', KEYS[4], ARGV[1])
return 1`;
// KEYS: due  ARGV: now, limit, lease, recPrefix
const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local rec = redis.call('HMGET', ARGV[4] .. id, 'v', 's', 'd')
  if rec[1] and rec[2] == 'ACTIVE' then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]), id)
    table.insert(out, rec[1]); table.insert(out, rec[3])
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out`;

type Scripts = {
  subCreate(rec: string, dev: string, own: string, due: string, count: string, json: string, ttl: number, endsAt: string, id: string): Promise<number>;
  subUpdate(rec: string, dev: string, own: string, due: string, expected: number, json: string, ttl: number, endsAt: string, id: string): Promise<number>;
  subEnd(rec: string, dev: string, own: string, due: string, count: string, json: string, ttl: number, id: string): Promise<number>;
  subPurge(rec: string, dev: string, own: string, due: string, count: string, id: string): Promise<number>;
  subClaim(due: string, now: number, limit: number, lease: number, recPrefix: string): Promise<string[]>;
};

/** SubscriptionStore on Redis (shared by every gateway instance). */
export class RedisSubscriptionStore extends SubscriptionStore {
  private readonly k;
  private readonly redis: Redis & Scripts;

  constructor(redis: Redis, prefix: string, private readonly clock: Clock = Clock.system) {
    super();
    this.k = subscriptionKeys(prefix);
    defineScripts(redis, {
      subCreate: { keys: 5, lua: CREATE },
      subUpdate: { keys: 4, lua: UPDATE },
      subEnd: { keys: 5, lua: END },
      subPurge: { keys: 5, lua: PURGE },
      subClaim: { keys: 1, lua: CLAIM },
    });
    this.redis = redis as Redis & Scripts;
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

  async create(sub: StoredSubscription): Promise<void> {
    const { k } = this;
    const stored: StoredSubscription = { ...sub, state: 'ACTIVE', version: 1 };
    await guard('subscription.create', () =>
      this.redis.subCreate(
        k.subscription(sub.id),
        k.subscriptionsByDevice(sub.phoneNumber, sub.deviceId),
        k.subscriptionsByOwner(sub.owner),
        k.subscriptionsDue(),
        k.subscriptionsActive(),
        JSON.stringify(stored),
        this.ttl(stored),
        sub.endsAt === undefined ? '' : String(sub.endsAt),
        sub.id,
      ),
    );
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
      this.redis.subUpdate(
        k.subscription(next.id),
        k.subscriptionsByDevice(next.phoneNumber, next.deviceId),
        k.subscriptionsByOwner(next.owner),
        k.subscriptionsDue(),
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
      this.redis.subEnd(
        k.subscription(id),
        k.subscriptionsByDevice(cur.phoneNumber, cur.deviceId),
        k.subscriptionsByOwner(cur.owner),
        k.subscriptionsDue(),
        k.subscriptionsActive(),
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
      this.redis.subPurge(
        k.subscription(id),
        cur ? k.subscriptionsByDevice(cur.phoneNumber, cur.deviceId) : k.subscriptionsByDevice('', ''),
        cur ? k.subscriptionsByOwner(cur.owner) : k.subscriptionsByOwner(''),
        k.subscriptionsDue(),
        k.subscriptionsActive(),
        id,
      ),
    );
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<StoredSubscription[]> {
    const flat = await guard('subscription.claimDue', () =>
      this.redis.subClaim(this.k.subscriptionsDue(), now, limit, leaseMs, this.k.subscription('')),
    );
    const out: StoredSubscription[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const s = this.parse(flat[i], flat[i + 1]);
      if (s) out.push({ ...s, state: 'ACTIVE' });
    }
    return out;
  }

  async count(): Promise<number> {
    const n = await guard('subscription.count', () => this.redis.get(this.k.subscriptionsActive()));
    return Math.max(0, Number(n ?? 0));
  }
}
