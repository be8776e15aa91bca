import type Redis from 'ioredis';
import { Clock } from '../../common/clock';
import { AckNext, ClaimedQueue, EventQueue, FanOutRequest, FanOutResult, QueuedEvent, QueueHead } from '../event-queue';
import type { StoredSubscription } from '../subscription-store';
import { defineScripts, guard } from './redis-client';
import { subscriptionKeys } from './redis-subscription.store';

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

// One script per publish: the subscription lookup of `findByDevice` (same rules: ACTIVE, not past
// endsAt, dangling index entries dropped) plus the `types` filter, an ENQUEUE per match and, with an
// owner, the CLAIM of each matching queue that is free and due (the in-process hand-off).
// ARGV: devKey, subPrefix, queuePrefix, seqPrefix, leasePrefix, headPrefix, ready, backlog, type,
//       now, restJson ('{"type":…' without id/subscriptionId), owner ('' none), leaseMs, nIds, ids…
// Returns {0, {{id, seq, 0} | {id, seq, 1, head, attempts, v, s, d}, …}} or {needed, {}}.
const FANOUT = `
local now = tonumber(ARGV[10])
local members = redis.call('SMEMBERS', ARGV[1])
local matches, dangling = {}, {}
for _, id in ipairs(members) do
  local rec = redis.call('HMGET', ARGV[2] .. id, 's', 'd')
  if rec[1] ~= 'ACTIVE' or not rec[2] then
    table.insert(dangling, id)
  else
    local sub = cjson.decode(rec[2])
    if type(sub.endsAt) ~= 'number' or sub.endsAt > now then
      if type(sub.types) == 'table' then
        for _, t in ipairs(sub.types) do
          if t == ARGV[9] then table.insert(matches, id) break end
        end
      end
    end
  end
end
if #dangling > 0 then redis.call('SREM', ARGV[1], unpack(dangling)) end
if #matches > tonumber(ARGV[14]) then return {#matches, {}} end
local rest = string.sub(ARGV[11], 2)
local leaseMs = tonumber(ARGV[13])
local out = {}
for i, id in ipairs(matches) do
  local eid = ARGV[14 + i]
  local q = ARGV[3] .. id
  local seq = redis.call('INCR', ARGV[4] .. id)
  redis.call('RPUSH', q, eid .. '\\n{"sequence":' .. seq .. ',"id":' .. cjson.encode(eid) .. ',"subscriptionId":' .. cjson.encode(id) .. ',' .. rest)
  redis.call('INCR', ARGV[8])
  local claimed = false
  if ARGV[12] ~= '' then
    local score = redis.call('ZSCORE', ARGV[7], id)
    if (not score or tonumber(score) <= now) and redis.call('SET', ARGV[5] .. id, ARGV[12], 'NX', 'PX', leaseMs) then
      redis.call('ZADD', ARGV[7], now + leaseMs, id)
      claimed = true
    end
  end
  if claimed then
    local rec = redis.call('HMGET', ARGV[2] .. id, 'v', 's', 'd')
    table.insert(out, {id, seq, 1, redis.call('LINDEX', q, 0), redis.call('HGET', ARGV[6] .. id, 'attempts') or '0', rec[1], rec[2], rec[3]})
  else
    redis.call('ZADD', ARGV[7], 'NX', now, id)
    table.insert(out, {id, seq, 0})
  end
end
return {0, out}`;
// CLAIM, returning each claimed queue's head, attempts and subscription record.
// KEYS: ready  ARGV: now, limit, lease, owner, queuePrefix, leasePrefix, headPrefix, subPrefix
// Returns {{id, head, attempts, v, s, d}, …}
const CLAIM_HEADS = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local leaseKey = ARGV[6] .. id
  local head = redis.call('LINDEX', ARGV[5] .. id, 0)
  if not head then
    if redis.call('EXISTS', leaseKey) == 0 then redis.call('ZREM', KEYS[1], id) end
  elseif redis.call('SET', leaseKey, ARGV[4], 'NX', 'PX', tonumber(ARGV[3])) then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]), id)
    local rec = redis.call('HMGET', ARGV[8] .. id, 'v', 's', 'd')
    table.insert(out, {id, head, redis.call('HGET', ARGV[7] .. id, 'attempts') or '0', rec[1], rec[2], rec[3]})
  else
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + math.max(redis.call('PTTL', leaseKey), 0), id)
  end
end
return out`;
// ACK, then either the next head under an extended lease, or RELEASE of the empty queue.
// KEYS: lease, queue, head, backlog, ready, rec  ARGV: owner, '<eventId>\n', leaseMs, now, id
// Returns {0} (lost), {1} (empty, released) or {2, head, v, s, d}.
const ACK_NEXT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
local h = redis.call('LINDEX', KEYS[2], 0)
if not h or string.sub(h, 1, #ARGV[2]) ~= ARGV[2] then return {0} end
redis.call('LPOP', KEYS[2])
redis.call('DEL', KEYS[3])
redis.call('DECR', KEYS[4])
local nxt = redis.call('LINDEX', KEYS[2], 0)
if not nxt then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[5], ARGV[5])
  return {1}
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('ZADD', KEYS[5], tonumber(ARGV[4]) + tonumber(ARGV[3]), ARGV[5])
local rec = redis.call('HMGET', KEYS[6], 'v', 's', 'd')
return {2, nxt, rec[1], rec[2], rec[3]}`;

type Reply = string | number | null | Reply[];

type Scripts = {
  evFanOut(...args: (string | number)[]): Promise<Reply[]>;
  evClaimHeads(ready: string, now: number, limit: number, lease: number, owner: string, qPrefix: string, leasePrefix: string, headPrefix: string, subPrefix: string): Promise<Reply[]>;
  evAckNext(lease: string, q: string, head: string, backlog: string, ready: string, rec: string, owner: string, idPrefix: string, leaseMs: number, now: number, id: string): Promise<Reply[]>;
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

const str = (r: Reply | undefined): string | undefined => (typeof r === 'string' ? r : undefined);

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

/** EventQueue on Redis: a list per subscription, a `ready` sorted set and per-subscription lease keys. */
export class RedisEventQueue extends EventQueue {
  private readonly k;
  private readonly sk;
  private readonly redis: Redis & Scripts;

  constructor(redis: Redis, prefix: string, private readonly clock: Clock = Clock.system) {
    super();
    this.k = eventQueueKeys(prefix);
    this.sk = subscriptionKeys(prefix);
    defineScripts(redis, {
      evEnqueue: { keys: 4, lua: ENQUEUE },
      evClaim: { keys: 1, lua: CLAIM },
      evRenew: { keys: 2, lua: RENEW },
      evAck: { keys: 4, lua: ACK },
      evRetry: { keys: 4, lua: RETRY },
      evRelease: { keys: 3, lua: RELEASE },
      evDiscard: { keys: 6, lua: DISCARD },
      evFanOut: { keys: 0, lua: FANOUT },
      evClaimHeads: { keys: 1, lua: CLAIM_HEADS },
      evAckNext: { keys: 6, lua: ACK_NEXT },
    });
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

  async fanOut(req: FanOutRequest): Promise<FanOutResult> {
    const { k, sk } = this;
    const rest: Omit<QueuedEvent, 'id' | 'subscriptionId' | 'sequence'> = {
      type: req.type,
      time: req.time,
      data: req.data,
      ...(req.correlator !== undefined ? { correlator: req.correlator } : {}),
    };
    const now = this.clock.now();
    const reply = await guard('eventQueue.fanOut', () =>
      this.redis.evFanOut(
        sk.subscriptionsByDevice(req.phoneNumber, req.deviceId),
        sk.subscription(''),
        k.queue(''),
        k.sequence(''),
        k.lease(''),
        k.head(''),
        k.ready(),
        k.backlog(),
        req.type,
        now,
        JSON.stringify(rest),
        req.claim?.owner ?? '',
        req.claim?.leaseMs ?? 0,
        req.ids.length,
        ...req.ids,
      ),
    );
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
    const { k, sk } = this;
    const rows = await guard('eventQueue.claimReadyHeads', () =>
      this.redis.evClaimHeads(k.ready(), now, limit, leaseMs, owner, k.queue(''), k.lease(''), k.head(''), sk.subscription('')),
    );
    const out: ClaimedQueue[] = [];
    for (const row of rows) {
      if (!Array.isArray(row)) continue;
      const c = claimedFrom(str(row[0]) ?? '', row, 1);
      if (c) out.push(c);
    }
    return out;
  }

  async ackAndNext(subscriptionId: string, eventId: string, owner: string, leaseMs: number): Promise<AckNext> {
    const { k, sk } = this;
    const s = subscriptionId;
    const row = await guard('eventQueue.ackAndNext', () =>
      this.redis.evAckNext(k.lease(s), k.queue(s), k.head(s), k.backlog(), k.ready(), sk.subscription(s), owner, `${eventId}\n`, leaseMs, this.clock.now(), s),
    );
    const code = Number(row[0]);
    if (code === 1) return { kind: 'empty' };
    if (code !== 2) return { kind: 'lost' };
    const entry = str(row[1]);
    if (entry === undefined) return { kind: 'lost' };
    return { kind: 'next', next: { subscriptionId: s, head: { event: parseEntry(entry), attempts: 0 }, subscription: parseSubscription(row[2], row[3], row[4]) } };
  }

  async backlog(): Promise<number> {
    const n = await guard('eventQueue.backlog', () => this.redis.get(this.k.backlog()));
    return Math.max(0, Number(n ?? 0));
  }
}
