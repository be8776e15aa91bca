import { Registration, REGISTRATION_GRACE_MS, RegistrationStore } from '../registration-store';
import { Clock } from '../../common/clock';
import { defineScripts, guard, keys } from './redis-client';
import type Redis from 'ioredis';

// Records are hashes { v: version, d: JSON }; CAS and indexes are kept consistent by Lua scripts
// (one round trip each, atomic across gateway instances).
const CREATE = `
local cur = redis.call('GET', KEYS[2])
if cur and redis.call('EXISTS', ARGV[5] .. cur) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', 1, 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1`;
const UPDATE = `
local v = redis.call('HGET', KEYS[1], 'v')
if not v or tonumber(v) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', tonumber(v) + 1, 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
return 1`;
const DELETE = `
local v = redis.call('HGET', KEYS[1], 'v')
if not v then redis.call('ZREM', KEYS[3], ARGV[2]) return 0 end
if ARGV[1] ~= '' and tonumber(v) ~= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
redis.call('ZREM', KEYS[3], ARGV[2])
return 1`;
const CLAIM = `
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
return out`;

type Scripts = {
  regCreate(k1: string, k2: string, k3: string, json: string, ttl: number, due: number, id: string, prefix: string): Promise<number>;
  regUpdate(k1: string, k2: string, k3: string, expected: number, json: string, ttl: number, due: number, id: string): Promise<number>;
  regDelete(k1: string, k2: string, k3: string, expected: string, id: string): Promise<number>;
  regClaim(k1: string, now: number, limit: number, lease: number, prefix: string): Promise<string[]>;
};

/** RegistrationStore on Redis (shared by every gateway instance). */
export class RedisRegistrationStore extends RegistrationStore {
  private readonly k;
  private readonly redis: Redis & Scripts;

  constructor(redis: Redis, prefix: string, private readonly clock: Clock = Clock.system) {
    super();
    this.k = keys(prefix);
    defineScripts(redis, {
      regCreate: { keys: 3, lua: CREATE },
      regUpdate: { keys: 3, lua: UPDATE },
      regDelete: { keys: 3, lua: DELETE },
      regClaim: { keys: 1, lua: CLAIM },
    });
    this.redis = redis as Redis & Scripts;
  }

  private ttl(r: Registration): number {
    return Math.max(1000, r.expiresAt + REGISTRATION_GRACE_MS - this.clock.now());
  }

  private parse(v: string | null | undefined, d: string | null | undefined): Registration | undefined {
    if (!v || !d) return undefined;
    const r = JSON.parse(d) as Registration;
    r.version = Number(v);
    return r;
  }

  async create(reg: Registration): Promise<boolean> {
    const { k } = this;
    const created = await guard('registration.create', () =>
      this.redis.regCreate(
        k.registration(reg.registrationId),
        k.registrationByDevice(reg.phoneNumber, reg.deviceId),
        k.registrationsDue(),
        JSON.stringify({ ...reg, version: 1 }),
        this.ttl(reg),
        reg.dueAt,
        reg.registrationId,
        k.registration(''),
      ),
    );
    return created === 1;
  }

  async get(registrationId: string): Promise<Registration | undefined> {
    const [v, d] = await guard('registration.get', () => this.redis.hmget(this.k.registration(registrationId), 'v', 'd'));
    return this.parse(v, d);
  }

  async findByDevice(phoneNumber: string, deviceId: string): Promise<Registration | undefined> {
    const id = await guard('registration.findByDevice', () => this.redis.get(this.k.registrationByDevice(phoneNumber, deviceId)));
    return id ? this.get(id) : undefined;
  }

  async update(next: Registration, expectedVersion: number): Promise<Registration | undefined> {
    const { k } = this;
    const ok = await guard('registration.update', () =>
      this.redis.regUpdate(
        k.registration(next.registrationId),
        k.registrationByDevice(next.phoneNumber, next.deviceId),
        k.registrationsDue(),
        expectedVersion,
        JSON.stringify(next),
        this.ttl(next),
        next.dueAt,
        next.registrationId,
      ),
    );
    return ok === 1 ? { ...next, version: expectedVersion + 1 } : undefined;
  }

  async delete(registrationId: string, expectedVersion?: number): Promise<boolean> {
    const cur = await this.get(registrationId);
    if (!cur) {
      await guard('registration.delete', () => this.redis.zrem(this.k.registrationsDue(), registrationId));
      return false;
    }
    const { k } = this;
    const ok = await guard('registration.delete', () =>
      this.redis.regDelete(
        k.registration(registrationId),
        k.registrationByDevice(cur.phoneNumber, cur.deviceId),
        k.registrationsDue(),
        expectedVersion === undefined ? '' : String(expectedVersion),
        registrationId,
      ),
    );
    return ok === 1;
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<Registration[]> {
    const flat = await guard('registration.claimDue', () =>
      this.redis.regClaim(this.k.registrationsDue(), now, limit, leaseMs, this.k.registration('')),
    );
    const out: Registration[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const r = this.parse(flat[i], flat[i + 1]);
      if (r) out.push(r);
    }
    return out;
  }

  async count(): Promise<number> {
    return guard('registration.count', () => this.redis.zcard(this.k.registrationsDue()));
  }
}
