/** Lua of the session store (tag {ev}, shared with the event queues); layout and KEYS rules: ../lua-scripts.ts. */
import type { LuaScript } from '../lua-scripts';
import { FAN_OUT } from './events.lua';

// ---------------------------------------------------------------- sessions ({ev}sess…): hashes { v, <property>: JSON, … }
// Active sessions are sorted sets scored by when the record expires (Redis server time + ttl), so an id whose
// record expired while active (its instance crashed before the final status) ages out. Server time: PEXPIRE's clock.
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
/** Both indexes of non-final sessions (all, and the subscriber's for its quota): ARGV[ttl], ARGV[id], ARGV[active]. */
const INDEX = (ttl: number, id: number, active: number): string => `
if ARGV[${active}] == '1' then
  for i = 3, 4 do redis.call('ZADD', KEYS[i], now + tonumber(ARGV[${ttl}]), ARGV[${id}]) end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  if redis.call('PTTL', KEYS[4]) < tonumber(ARGV[${ttl}]) then redis.call('PEXPIRE', KEYS[4], ARGV[${ttl}]) end
else for i = 3, 4 do redis.call('ZREM', KEYS[i], ARGV[${id}]) end end`;
/** Compare-and-set: the record's version must be ARGV[1]. */
const CAS = `
local v = redis.call('HGET', KEYS[1], 'v')
if not v or tonumber(v) ~= tonumber(ARGV[1]) then return 0 end`;
/**
 * The write of an update, after CAS. ARGV: expectedVersion, ttl, dialog ('' none), id, '1' active | '0',
 * nSet, nDel, '1' replace every field | '0' only these, then nSet (field, JSON value) pairs, then nDel fields
 * to remove. `last` is the index of the last ARGV it reads (evFanOut's ARGV follow in sessUpdateFanOut).
 */
const WRITE = `
local nset, ndel = tonumber(ARGV[6]), tonumber(ARGV[7])
local last = 8 + 2 * nset + ndel
if ARGV[8] == '1' then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], 'v', tonumber(v) + 1, unpack(ARGV, 9, 8 + 2 * nset))
if ndel > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 9 + 2 * nset, last)) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[2]) end${INDEX(2, 4, 5)}`;
// Sessions are hashes: `v` (version) and one field per property of the session, its value as JSON; an update
// writes the fields that changed and removes those that were cleared.
export const sessionScripts = {
  sessCreate: {
    keys: ['rec', 'dlg', 'active', 'num'],
    // ARGV: ttl, dialog ('' none), id, '1' active | '0', maxPerNumber (0 none), then (field, JSON value) pairs.
    // Returns 1, or -n when an active session would be the number's (n+1)th with n ≥ max (nothing written).
    lua: `${NOW}
local max = tonumber(ARGV[5])
if ARGV[4] == '1' and max > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  local n = redis.call('ZCARD', KEYS[4])
  if n >= max then return -n end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', 1, unpack(ARGV, 6))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[1]) end${INDEX(1, 3, 4)}
return 1`,
  },
  sessUpdate: {
    keys: ['rec', 'dlg', 'active', 'num'],
    // ARGV: as WRITE. Returns 1, or 0 on a version conflict (nothing written).
    lua: `${NOW}${CAS}${WRITE}
return 1`,
  },
  // sessUpdate and the fan-out of the event it reports (evFanOut, events.lua.ts) in one atomic step:
  // the transition and its session-status event are persisted together, or neither is.
  // KEYS: sessUpdate's 4, then evFanOut's (dev, ready, backlog, then rec, queue, seq, lease, head per
  // subscription). ARGV: sessUpdate's (WRITE), then evFanOut's.
  // Returns {0} (version conflict: nothing written), {-1, actualIds} (the subscription ids named are
  // stale: nothing written), {1, needed, {}, dangling} (session written; more matches than event ids:
  // no event), or {1, 0, rows, dangling} (both written; rows as evFanOut's).
  sessUpdateFanOut: {
    keys: ['rec', 'dlg', 'active', 'num', 'dev', 'ready', 'backlog'],
    keysPerItem: ['rec', 'queue', 'seq', 'lease', 'head'],
    lua: `${NOW}${FAN_OUT}${CAS.replace('return 0', 'return {0}')}
local K, A = {unpack(KEYS, 5)}, {unpack(ARGV, 9 + 2 * tonumber(ARGV[6]) + tonumber(ARGV[7]))}
local stale, matches, dangling = fan_plan(K, A)
if stale then return {-1, stale} end${WRITE}
if #matches > #A - 6 - tonumber(A[6]) then return {1, #matches, {}, dangling} end
return {1, 0, fan_write(K, A, matches), dangling}`,
  },
  sessCountActive: {
    keys: ['active'],
    lua: `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])`,
  },
} as const satisfies Record<string, LuaScript>;
