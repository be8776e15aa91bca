/** Lua of the subscription store and the event queues ({ev}); layout and KEYS rules: ../lua-scripts.ts. */
import type { LuaScript } from '../lua-scripts';

// ---------------------------------------------------------------- subscriptions ({ev}): records are hashes { v: version, s: state, d: JSON }. Index sets live as long as their longest
// member (PERSIST when a member never expires); dangling ids are dropped lazily on read.
const INDEX_TTL = `
local function extend(key, ttl)
  if ttl < 0 then redis.call('PERSIST', key) return end
  local cur = redis.call('PTTL', key)
  if cur >= 0 and cur < ttl then redis.call('PEXPIRE', key, ttl) end
end`;
export const subscriptionScripts = {
  subCreate: {
    keys: ['rec', 'dev', 'own', 'due', 'act'],
    // ARGV: json, ttl (-1 none), endsAt ('' none), id, now, maxPerDevice (0 none).
    // Returns 1, or -n when the device has n ≥ max ACTIVE subscriptions not past endsAt (nothing written).
    lua: `${INDEX_TTL}
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', ARGV[5])
local max = tonumber(ARGV[6])
if max > 0 then
  local n = redis.call('ZCARD', KEYS[5])
  if n >= max then return -n end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', 1, 's', 'ACTIVE', 'd', ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
local existed = {redis.call('EXISTS', KEYS[2]), redis.call('EXISTS', KEYS[3]), redis.call('EXISTS', KEYS[5])}
redis.call('SADD', KEYS[2], ARGV[4]); redis.call('SADD', KEYS[3], ARGV[4])
redis.call('ZADD', KEYS[5], ARGV[3] ~= '' and ARGV[3] or '+inf', ARGV[4])
for i, key in ipairs({KEYS[2], KEYS[3], KEYS[5]}) do
  if existed[i] == 0 and ttl > 0 then redis.call('PEXPIRE', key, ttl) else extend(key, ttl) end
end
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[4], tonumber(ARGV[3]), ARGV[4]) end
return 1`,
  },
  subUpdate: {
    keys: ['rec', 'dev', 'own', 'due', 'act'],
    // ARGV: expectedVersion, json, ttl, endsAt ('' none), id
    lua: `${INDEX_TTL}
local v = redis.call('HGET', KEYS[1], 'v')
if not v or tonumber(v) ~= tonumber(ARGV[1]) or redis.call('HGET', KEYS[1], 's') ~= 'ACTIVE' then return 0 end
redis.call('HSET', KEYS[1], 'v', tonumber(v) + 1, 'd', ARGV[2])
local ttl = tonumber(ARGV[3])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) else redis.call('PERSIST', KEYS[1]) end
local had = redis.call('EXISTS', KEYS[5])
redis.call('ZADD', KEYS[5], ARGV[4] ~= '' and ARGV[4] or '+inf', ARGV[5])
extend(KEYS[2], ttl); extend(KEYS[3], ttl)
if had == 0 and ttl > 0 then redis.call('PEXPIRE', KEYS[5], ttl) else extend(KEYS[5], ttl) end
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[4], tonumber(ARGV[4]), ARGV[5]) else redis.call('ZREM', KEYS[4], ARGV[5]) end
return 1`,
  },
  subEnd: {
    keys: ['rec', 'dev', 'own', 'due', 'act'],
    // ARGV: json (ended), ttl, id. Returns the new version, 0 when not ACTIVE.
    lua: `
if redis.call('HGET', KEYS[1], 's') ~= 'ACTIVE' then return 0 end
local v = tonumber(redis.call('HGET', KEYS[1], 'v'))
redis.call('HSET', KEYS[1], 'v', v + 1, 's', 'ENDED', 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('SREM', KEYS[2], ARGV[3]); redis.call('SREM', KEYS[3], ARGV[3]); redis.call('ZREM', KEYS[4], ARGV[3]); redis.call('ZREM', KEYS[5], ARGV[3])
return v + 1`,
  },
  subPurge: {
    keys: ['rec', 'dev', 'own', 'due', 'act'],
    // ARGV: id
    lua: `
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1]); redis.call('SREM', KEYS[3], ARGV[1]); redis.call('ZREM', KEYS[4], ARGV[1]); redis.call('ZREM', KEYS[5], ARGV[1])
return 1`,
  },
  // As regClaim: the caller passes the due ids it read and their record keys.
  subClaim: {
    keys: ['due'],
    keysPerItem: ['rec'],
    // ARGV: now, leaseMs, then the ids in KEYS order. Returns {v, d, v, d, …}
    lua: `
local now, out = tonumber(ARGV[1]), {}
for i = 2, #KEYS do
  local id = ARGV[i + 1]
  local due = redis.call('ZSCORE', KEYS[1], id)
  if due and tonumber(due) <= now then
    local rec = redis.call('HMGET', KEYS[i], 'v', 's', 'd')
    if rec[1] and rec[2] == 'ACTIVE' then
      redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
      table.insert(out, rec[1]); table.insert(out, rec[3])
    else
      redis.call('ZREM', KEYS[1], id)
    end
  end
end
return out`,
  },
} as const satisfies Record<string, LuaScript>;

/**
 * The fan-out of one event over a device's subscriptions, as two Lua functions over K (keys: dev,
 * ready, backlog, then rec, queue, seq, lease, head per subscription) and A (the evFanOut ARGV).
 * `fan_plan` checks the ids the caller named against the device index (stale: the actual ids, nothing
 * written) and finds the matching subscriptions; `fan_write` enqueues and leases.
 */
export const FAN_OUT = `
local function fan_plan(K, A)
  local n = tonumber(A[6])
  local given = {}
  for i = 1, n do given[A[6 + i]] = true end
  local members = redis.call('SMEMBERS', K[1])
  if #members ~= n then return members end
  for _, id in ipairs(members) do if not given[id] then return members end end
  local now = tonumber(A[2])
  local matches, dangling = {}, {}
  for i = 1, n do
    local rec = redis.call('HMGET', K[3 + 5 * (i - 1) + 1], 's', 'd')
    if rec[1] ~= 'ACTIVE' or not rec[2] then
      table.insert(dangling, A[6 + i])
    else
      local sub = cjson.decode(rec[2])
      if (type(sub.endsAt) ~= 'number' or sub.endsAt > now) and type(sub.types) == 'table' then
        for _, t in ipairs(sub.types) do
          if t == A[1] then table.insert(matches, i) break end
        end
      end
    end
  end
  if #dangling > 0 then redis.call('SREM', K[1], unpack(dangling)) end
  return nil, matches, dangling
end
local function fan_write(K, A, matches)
  local n, now = tonumber(A[6]), tonumber(A[2])
  local rest = string.sub(A[3], 2)
  local leaseMs, out = tonumber(A[5]), {}
  for j, i in ipairs(matches) do
    local id, k, eid = A[6 + i], 3 + 5 * (i - 1), A[6 + n + j]
    local seq = redis.call('INCR', K[k + 3])
    redis.call('RPUSH', K[k + 2], eid .. '\\n{"sequence":' .. seq .. ',"id":' .. cjson.encode(eid) .. ',"subscriptionId":' .. cjson.encode(id) .. ',' .. rest)
    redis.call('INCR', K[3])
    local claimed = false
    if A[4] ~= '' then
      local score = redis.call('ZSCORE', K[2], id)
      if (not score or tonumber(score) <= now) and redis.call('SET', K[k + 4], A[4], 'NX', 'PX', leaseMs) then
        redis.call('ZADD', K[2], now + leaseMs, id)
        claimed = true
      end
    end
    if claimed then
      local rec = redis.call('HMGET', K[k + 1], 'v', 's', 'd')
      table.insert(out, {id, seq, 1, redis.call('LINDEX', K[k + 2], 0), redis.call('HGET', K[k + 5], 'attempts') or '0', rec[1], rec[2], rec[3]})
    else
      redis.call('ZADD', K[2], 'NX', now, id)
      table.insert(out, {id, seq, 0})
    end
  end
  return out
end`;

// ---------------------------------------------------------------- event queues ({ev}): a head entry is `<eventId>\n<JSON>`: ack and retry compare the prefix `<eventId>\n` (ARGV) to
// check that the head is still the event the caller delivered.

export const eventQueueScripts = {
  evEnqueue: {
    keys: ['queue', 'seq', 'ready', 'backlog'],
    // ARGV: eventId, json (without sequence), now, subscriptionId. Returns the sequence.
    lua: `
local seq = redis.call('INCR', KEYS[2])
redis.call('RPUSH', KEYS[1], ARGV[1] .. '\\n{"sequence":' .. seq .. ',' .. string.sub(ARGV[2], 2))
redis.call('ZADD', KEYS[3], 'NX', tonumber(ARGV[3]), ARGV[4])
redis.call('INCR', KEYS[4])
return seq`,
  },
  evRenew: {
    keys: ['lease', 'ready'],
    // ARGV: owner, leaseMs, now, subscriptionId
    lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('ZADD', KEYS[2], 'GT', tonumber(ARGV[3]) + tonumber(ARGV[2]), ARGV[4])
return 1`,
  },
  evAck: {
    keys: ['lease', 'queue', 'head', 'backlog'],
    // ARGV: owner, '<eventId>\n'
    lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local h = redis.call('LINDEX', KEYS[2], 0)
if not h or string.sub(h, 1, #ARGV[2]) ~= ARGV[2] then return 0 end
redis.call('LPOP', KEYS[2])
redis.call('DEL', KEYS[3])
redis.call('DECR', KEYS[4])
return 1`,
  },
  evRetry: {
    keys: ['lease', 'queue', 'head', 'ready'],
    // ARGV: owner, '<eventId>\n', attempts, notBefore, subscriptionId
    lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local h = redis.call('LINDEX', KEYS[2], 0)
if not h or string.sub(h, 1, #ARGV[2]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[3], 'attempts', ARGV[3])
redis.call('ZADD', KEYS[4], tonumber(ARGV[4]), ARGV[5])
redis.call('DEL', KEYS[1])
return 1`,
  },
  evRelease: {
    keys: ['lease', 'queue', 'ready'],
    // ARGV: owner, readyAt, subscriptionId
    lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('LLEN', KEYS[2]) == 0 then redis.call('ZREM', KEYS[3], ARGV[3])
else redis.call('ZADD', KEYS[3], tonumber(ARGV[2]), ARGV[3]) end
return 1`,
  },
  evDiscard: {
    keys: ['queue', 'seq', 'head', 'lease', 'ready', 'backlog'],
    // ARGV: subscriptionId. Returns the entries removed.
    lua: `
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[5], ARGV[1])
if #items > 0 then redis.call('DECRBY', KEYS[6], #items) end
return items`,
  },
  // One script per publish: the lookup of `findByDevice` (ACTIVE, not past endsAt, dangling index
  // entries dropped) plus the `types` filter, an enqueue per match and, with an owner, the lease of
  // each matching queue that is free and due (the in-process hand-off). The same Lua also runs after a
  // session write in `sessUpdateFanOut` (FAN_OUT: functions over a slice of KEYS and ARGV).
  // ARGV: type, now, restJson ('{"type":…' without id/subscriptionId), owner ('' none), leaseMs,
  //       n, the n subscription ids the keys were built for (in KEYS order), then the event ids.
  // Returns {-1, actualIds} (stale: nothing written), {needed, {}, dangling} (more matches than
  // event ids: nothing enqueued), or {0, {{id, seq, 0} | {id, seq, 1, head, attempts, v, s, d}, …}, dangling}.
  evFanOut: {
    keys: ['dev', 'ready', 'backlog'],
    keysPerItem: ['rec', 'queue', 'seq', 'lease', 'head'],
    lua: `${FAN_OUT}
local stale, matches, dangling = fan_plan(KEYS, ARGV)
if stale then return {-1, stale} end
if #matches > #ARGV - 6 - tonumber(ARGV[6]) then return {#matches, {}, dangling} end
return {0, fan_write(KEYS, ARGV, matches), dangling}`,
  },
  // Leases the ready queues the caller read (ZRANGEBYSCORE on `ready`) and passes with their keys,
  // if still ready (head due, no lease), and returns each one's head, attempts and subscription
  // record. A ready id whose queue is empty and unleased leaves the index.
  evClaimHeads: {
    keys: ['ready'],
    keysPerItem: ['queue', 'lease', 'head', 'rec'],
    // ARGV: now, leaseMs, owner, then the ids in KEYS order.
    // Returns {{id, head, attempts, v, s, d}, …}
    lua: `
local now, leaseMs, out = tonumber(ARGV[1]), tonumber(ARGV[2]), {}
for j = 1, (#KEYS - 1) / 4 do
  local id, k = ARGV[3 + j], 1 + 4 * (j - 1)
  local ready = redis.call('ZSCORE', KEYS[1], id)
  if ready and tonumber(ready) <= now then
    local head = redis.call('LINDEX', KEYS[k + 1], 0)
    if not head then
      if redis.call('EXISTS', KEYS[k + 2]) == 0 then redis.call('ZREM', KEYS[1], id) end
    elseif redis.call('SET', KEYS[k + 2], ARGV[3], 'NX', 'PX', leaseMs) then
      redis.call('ZADD', KEYS[1], now + leaseMs, id)
      local rec = redis.call('HMGET', KEYS[k + 4], 'v', 's', 'd')
      table.insert(out, {id, head, redis.call('HGET', KEYS[k + 3], 'attempts') or '0', rec[1], rec[2], rec[3]})
    else
      redis.call('ZADD', KEYS[1], now + math.max(redis.call('PTTL', KEYS[k + 2]), 0), id)
    end
  end
end
return out`,
  },
  // evAck, then either the next head under an extended lease, or the release of the empty queue.
  evAckNext: {
    keys: ['lease', 'queue', 'head', 'backlog', 'ready', 'rec'],
    // ARGV: owner, '<eventId>\n', leaseMs, now, subscriptionId
    // Returns {0} (lost), {1} (empty, released) or {2, head, v, s, d}.
    lua: `
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
return {2, nxt, rec[1], rec[2], rec[3]}`,
  },
} as const satisfies Record<string, LuaScript>;
