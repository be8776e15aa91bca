/** Lua of the session store (tag {ev}, shared with the event queues); layout and KEYS rules: ../lua-scripts.ts. */
import type { LuaScript } from '../lua-scripts';
import { FAN_OUT } from './events.lua';

// ---------------------------------------------------------------- sessions ({ev}sess…): hashes { v, d }
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
/** Compare-and-set: the record's version must be ARGV[1] (sessUpdate's ARGV). */
const CAS = `
local v = redis.call('HGET', KEYS[1], 'v')
if not v or tonumber(v) ~= tonumber(ARGV[1]) then return 0 end`;
/** The write of sessUpdate (ARGV: expectedVersion, json, ttl, dialog, id, active), after CAS. */
const WRITE = `redis.call('HSET', KEYS[1], 'v', tonumber(v) + 1, 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[3]) end${INDEX(3, 5, 6)}`;
export const sessionScripts = {
  sessCreate: {
    keys: ['rec', 'dlg', 'active', 'num'],
    // ARGV: json, ttl, dialog ('' none), id, '1' active | '0', maxPerNumber (0 none).
    // Returns 1, or -n when an active session would be the number's (n+1)th with n ≥ max (nothing written).
    lua: `${NOW}
local max = tonumber(ARGV[6])
if ARGV[5] == '1' and max > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  local n = redis.call('ZCARD', KEYS[4])
  if n >= max then return -n end
end
redis.call('HSET', KEYS[1], 'v', 1, 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[2]) end${INDEX(2, 4, 5)}
return 1`,
  },
  sessUpdate: {
    keys: ['rec', 'dlg', 'active', 'num'],
    // ARGV: expectedVersion, json, ttl, dialog ('' none), id, '1' active | '0'
    lua: `${NOW}${CAS}
${WRITE}
return 1`,
  },
  // sessUpdate and the fan-out of the event it reports (evFanOut, events.lua.ts) in one atomic step:
  // the transition and its session-status event are persisted together, or neither is.
  // KEYS: sessUpdate's 4, then evFanOut's (dev, ready, backlog, then rec, queue, seq, lease, head per
  // subscription). ARGV: sessUpdate's 6, then evFanOut's.
  // Returns {0} (version conflict: nothing written), {-1, actualIds} (the subscription ids named are
  // stale: nothing written), {1, needed, {}, dangling} (session written; more matches than event ids:
  // no event), or {1, 0, rows, dangling} (both written; rows as evFanOut's).
  sessUpdateFanOut: {
    keys: ['rec', 'dlg', 'active', 'num', 'dev', 'ready', 'backlog'],
    keysPerItem: ['rec', 'queue', 'seq', 'lease', 'head'],
    lua: `${NOW}${FAN_OUT}${CAS.replace('return 0', 'return {0}')}
local K, A = {unpack(KEYS, 5)}, {unpack(ARGV, 7)}
local stale, matches, dangling = fan_plan(K, A)
if stale then return {-1, stale} end
${WRITE}
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
