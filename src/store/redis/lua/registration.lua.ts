/** Lua of the registration store ({reg}); layout and KEYS rules: ../lua-scripts.ts. */
import type { LuaScript } from '../lua-scripts';

// ---------------------------------------------------------------- registrations ({reg}): hashes { v, d }; CAS keeps the indexes in step
export const registrationScripts = {
  regCreate: {
    keys: ['rec', 'dev', 'due'],
    derived: ['rec of the registration the device index points to (ARGV[5] .. id)'],
    // ARGV: json, ttl, dueAt, id, recPrefix
    lua: `
local cur = redis.call('GET', KEYS[2])
if cur and redis.call('EXISTS', ARGV[5] .. cur) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', 1, 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1`,
  },
  regUpdate: {
    keys: ['rec', 'dev', 'due'],
    // ARGV: expectedVersion, json, ttl, dueAt, id
    lua: `
local v = redis.call('HGET', KEYS[1], 'v')
if not v or tonumber(v) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', tonumber(v) + 1, 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
return 1`,
  },
  regDelete: {
    keys: ['rec', 'dev', 'due'],
    // ARGV: expectedVersion ('' any), id
    lua: `
local v = redis.call('HGET', KEYS[1], 'v')
if not v then redis.call('ZREM', KEYS[3], ARGV[2]) return 0 end
if ARGV[1] ~= '' and tonumber(v) ~= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
redis.call('ZREM', KEYS[3], ARGV[2])
return 1`,
  },
  regClaim: {
    keys: ['due'],
    derived: ['rec of each due id (ARGV[4] .. id)'],
    // ARGV: now, limit, leaseMs, recPrefix. Returns {v, d, v, d, …}
    lua: `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local rec = redis.call('HMGET', ARGV[4] .. id, 'v', 'd')
  if rec[1] then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]), id)
    table.insert(out, rec[1]); table.insert(out, rec[2])
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out`,
  },
} as const satisfies Record<string, LuaScript>;
