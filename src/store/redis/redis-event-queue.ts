import type Redis from 'ioredis';
import { Clock } from '../clock';
import { EventQueue, QueuedEvent, QueueHead } from '../event-queue';
import { guard } from './redis-client';

/** Every key the event queue writes. NOTE: kept here, like `subscriptionKeys`, until folded into `keys()`. */
export const eventQueueKeys = (prefix: string) => ({
  /** List of `<eventId>\n<QueuedEvent JSON>`, oldest first. */
  queue: (subscriptionId: string) => `${prefix}evq:${subscriptionId}`,
  /** Hash { attempts } of the queue's head. */
  head: (subscriptionId: string) => `${prefix}evhead:${subscriptionId}`,
  sequence: (subscriptionId: string) => `${prefix}evseq:${subscriptionId}`,
  /** String: the owner (worker instance) holding the subscription's delivery lease; PX = lease. */
  lease: (subscriptionId: string) => `${prefix}evlease:${subscriptionId}`,
  /** Sorted set subscriptionId → when its head is due (or its lease ends). */
  ready: () => `${prefix}evready`,
  backlog: () => `${prefix}evbacklog`,
});

// KEYS: queue, seq, ready, backlog  ARGV: id, json, now, subscriptionId
const ENQUEUE = `
local seq = redis.call('INCR', KEYS[2])
redis.call('RPUSH', KEYS[1], ARGV[1] .. '\\n{"sequence":' .. seq .. ',' .. string.sub(ARGV[2], 2))
redis.call('ZADD', KEYS[3], 'NX', tonumber(ARGV[3]), ARGV[4])
redis.call('INCR', KEYS[4])
return seq`;
// KEYS: ready  ARGV: now, limit, lease, owner, queuePrefix, leasePrefix
const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local leaseKey = ARGV[6] .. id
  if redis.call('LLEN', ARGV[5] .. id) == 0 then
    if redis.call('EXISTS', leaseKey) == 0 then redis.call('ZREM', KEYS[1], id) end
  elseif redis.call('SET', leaseKey, ARGV[4], 'NX', 'PX', tonumber(ARGV[3])) then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]), id)
    table.insert(out, id)
  else
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + math.max(redis.call('PTTL', leaseKey), 0), id)
  end
end
return out`;
// KEYS: lease, ready  ARGV: owner, leaseMs, now, id
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('ZADD', KEYS[2], 'GT', tonumber(ARGV[3]) + tonumber(ARGV[2]), ARGV[4])
return 1`;
// KEYS: lease, queue, head, backlog  ARGV: owner, '<eventId>\\n'
const ACK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local h = redis.call('LINDEX', KEYS[2], 0)
if not h or string.sub(h, 1, #ARGV[2]) ~= ARGV[2] then return 0 end
redis.call('LPOP', KEYS[2])
redis.call('DEL', KEYS[3])
redis.call('DECR', KEYS[4])
return 1`;
// KEYS: lease, queue, head, ready  ARGV: owner, '<eventId>\\n', attempts, notBefore, id
const RETRY = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local h = redis.call('LINDEX', KEYS[2], 0)
if not h or string.sub(h, 1, #ARGV[2]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[3], 'attempts', ARGV[3])
redis.call('ZADD', KEYS[4], tonumber(ARGV[4]), ARGV[5])
redis.call('DEL', KEYS[1])
return 1`;
// KEYS: lease, queue, ready  ARGV: owner, readyAt, id
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('LLEN', KEYS[2]) == 0 then redis.call('ZREM', KEYS[3], ARGV[3])
else redis.call('ZADD', KEYS[3], tonumber(ARGV[2]), ARGV[3]) end
return 1`;
// KEYS: queue, seq, head, lease, ready, backlog  ARGV: id
const DISCARD = `
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[5], ARGV[1])
if #items > 0 then redis.call('DECRBY', KEYS[6], #items) end
return items`;

type Scripts = {
  evEnqueue(q: string, seq: string, ready: string, backlog: string, id: string, json: string, now: number, sub: string): Promise<number>;
  evClaim(ready: string, now: number, limit: number, lease: number, owner: string, qPrefix: string, leasePrefix: string): Promise<string[]>;
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

/** EventQueue on Redis: a list per subscription, a `ready` sorted set and per-subscription lease keys. */
export class RedisEventQueue extends EventQueue {
  private readonly k;
  private readonly redis: Redis & Scripts;

  constructor(redis: Redis, prefix: string, private readonly clock: Clock = Clock.system) {
    super();
    this.k = eventQueueKeys(prefix);
    if (!('evEnqueue' in redis)) {
      redis.defineCommand('evEnqueue', { numberOfKeys: 4, lua: ENQUEUE });
      redis.defineCommand('evClaim', { numberOfKeys: 1, lua: CLAIM });
      redis.defineCommand('evRenew', { numberOfKeys: 2, lua: RENEW });
      redis.defineCommand('evAck', { numberOfKeys: 4, lua: ACK });
      redis.defineCommand('evRetry', { numberOfKeys: 4, lua: RETRY });
      redis.defineCommand('evRelease', { numberOfKeys: 3, lua: RELEASE });
      redis.defineCommand('evDiscard', { numberOfKeys: 6, lua: DISCARD });
    }
    this.redis = redis as Redis & Scripts;
  }

  async enqueue(event: Omit<QueuedEvent, 'sequence'>): Promise<QueuedEvent> {
    const { k } = this;
    const s = event.subscriptionId;
    const sequence = await guard('eventQueue.enqueue', () =>
      this.redis.evEnqueue(k.queue(s), k.sequence(s), k.ready(), k.backlog(), event.id, JSON.stringify(event), this.clock.now(), s),
    );
    return { ...structuredClone(event), sequence };
  }

  async claimReady(now: number, limit: number, leaseMs: number, owner: string): Promise<string[]> {
    const { k } = this;
    return guard('eventQueue.claimReady', () => this.redis.evClaim(k.ready(), now, limit, leaseMs, owner, k.queue(''), k.lease('')));
  }

  async head(subscriptionId: string): Promise<QueueHead | undefined> {
    const { k } = this;
    const res = await guard('eventQueue.head', async () =>
      this.redis.multi().lindex(k.queue(subscriptionId), 0).hget(k.head(subscriptionId), 'attempts').exec(),
    );
    const entry = res?.[0]?.[1];
    const attempts = res?.[1]?.[1];
    if (typeof entry !== 'string') return undefined;
    return { event: parseEntry(entry), attempts: typeof attempts === 'string' ? Number(attempts) : 0 };
  }

  async renew(subscriptionId: string, owner: string, leaseMs: number): Promise<boolean> {
    const { k } = this;
    const ok = await guard('eventQueue.renew', () => this.redis.evRenew(k.lease(subscriptionId), k.ready(), owner, leaseMs, this.clock.now(), subscriptionId));
    return ok === 1;
  }

  async ack(subscriptionId: string, eventId: string, owner: string): Promise<boolean> {
    const { k } = this;
    const s = subscriptionId;
    const ok = await guard('eventQueue.ack', () => this.redis.evAck(k.lease(s), k.queue(s), k.head(s), k.backlog(), owner, `${eventId}\n`));
    return ok === 1;
  }

  async retryAt(subscriptionId: string, eventId: string, attempts: number, notBefore: number, owner: string): Promise<boolean> {
    const { k } = this;
    const s = subscriptionId;
    const ok = await guard('eventQueue.retryAt', () =>
      this.redis.evRetry(k.lease(s), k.queue(s), k.head(s), k.ready(), owner, `${eventId}\n`, attempts, notBefore, s),
    );
    return ok === 1;
  }

  async release(subscriptionId: string, owner: string, readyAt: number): Promise<void> {
    const { k } = this;
    const s = subscriptionId;
    await guard('eventQueue.release', () => this.redis.evRelease(k.lease(s), k.queue(s), k.ready(), owner, readyAt, s));
  }

  async discard(subscriptionId: string): Promise<string[]> {
    const { k } = this;
    const s = subscriptionId;
    const items = await guard('eventQueue.discard', () =>
      this.redis.evDiscard(k.queue(s), k.sequence(s), k.head(s), k.lease(s), k.ready(), k.backlog(), s),
    );
    return items.map((e) => e.slice(0, Math.max(0, e.indexOf('\n'))));
  }

  async backlog(): Promise<number> {
    const n = await guard('eventQueue.backlog', () => this.redis.get(this.k.backlog()));
    return Math.max(0, Number(n ?? 0));
  }
}
