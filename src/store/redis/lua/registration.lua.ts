/** Lua of the registration store ({reg}); layout and KEYS rules: ../lua-scripts.ts. */
import type { LuaScript } from '../lua-scripts';

// ---------------------------------------------------------------- registrations ({reg}): hashes { v, d }; CAS keeps the indexes in step
/** The number's index (regCreate): id → expiresAt; expired ids pruned; the key lives as long as its longest record. */
const NUM_INDEX = `
local id, ttl = ARGV[4], tonumber(ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[5], id)
if redis.call('PTTL', KEYS[4]) < ttl then redis.call('PEXPIRE', KEYS[4], ttl) end`;

export const registrationScripts = {
  regCreate: {
    keys: ['rec', 'dev', 'due', 'num'],
    // ARGV: json, ttl, dueAt, id, expiresAt, now, maxPerNumber (0 none).
    // Returns 1 created, 0 the device has one, -n the number has n ≥ max active ones (nothing written).
    // The device key lives exactly as long as the record it names (same PX, written together), so it alone says "exists".
    lua: `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[6])
local max = tonumber(ARGV[7])
if max > 0 then
  local n = redis.call('ZCARD', KEYS[4])
  if n >= max then return -n end
end
redis.call('HSET', KEYS[1], 'v', 1, 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])${NUM_INDEX}
return 1`,
  },
  regUpdate: {
    keys: ['rec', 'dev', 'due', 'num'],
    // ARGV: expectedVersion, json, ttl, dueAt, id, expiresAt, now
    lua: `
local v = redis.call('HGET', KEYS[1], 'v')
if not v or tonumber(v) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', tonumber(v) + 1, 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
local id, ttl = ARGV[5], tonumber(ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[6], id)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[7])
if redis.call('PTTL', KEYS[4]) < ttl then redis.call('PEXPIRE', KEYS[4], ttl) end
return 1`,
  },
  regDelete: {
    keys: ['rec', 'dev', 'due', 'num'],
    // ARGV: expectedVersion ('' any), id
    lua: `
local v = redis.call('HGET', KEYS[1], 'v')
if not v then redis.call('ZREM', KEYS[3], ARGV[2]) return 0 end
if ARGV[1] ~= '' and tonumber(v) ~= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
return 1`,
  },
  // The caller reads the due ids (ZRANGEBYSCORE) and passes each one's record key; the script
  // leases those still due (another instance may have leased some meanwhile).
  regClaim: {
    keys: ['due'],
    keysPerItem: ['rec'],
    // ARGV: now, leaseMs, then the ids in KEYS order. Returns {v, d, v, d, …}
    lua: `
local now, out = tonumber(ARGV[1]), {}
for i = 2, #KEYS do
  local id = ARGV[i + 1]
  local due = redis.call('ZSCORE', KEYS[1], id)
  if due and tonumber(due) <= now then
    local rec = redis.call('HMGET', KEYS[i], 'v', 'd')
    if rec[1] then
      redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
      table.insert(out, rec[1]); table.insert(out, rec[2])
    else
      redis.call('ZREM', KEYS[1], id)
    end
  end
end
return out`,
  },
} as const satisfies Record<string, LuaScript>;
