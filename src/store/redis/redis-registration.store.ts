import { Registration, REGISTRATION_GRACE_MS, RegistrationStore } from '../registration-store';
import { Clock } from '../../common/clock';
import { QuotaExceeded, quotaExceeded } from '../quota';
import { bindScripts, guard, keys } from './redis-client';
import { registrationScripts } from './lua-scripts';
import type Redis from 'ioredis';

type Scripts = {
  regCreate(rec: string, dev: string, due: string, num: string, json: string, ttl: number, dueAt: number, id: string, expiresAt: number, now: number, max: number): Promise<number>;
  regUpdate(rec: string, dev: string, due: string, num: string, expected: number, json: string, ttl: number, dueAt: number, id: string, expiresAt: number, now: number): Promise<number>;
  regDelete(rec: string, dev: string, due: string, num: string, expected: string, id: string): Promise<number>;
  /** numkeys, due, the rec key of each id, now, leaseMs, the ids. */
  regClaim(numkeys: number, ...args: (string | number)[]): Promise<string[]>;
};

/** RegistrationStore on Redis (shared by every gateway instance). */
export class RedisRegistrationStore extends RegistrationStore {
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
    this.lua = bindScripts(redis, registrationScripts) as unknown as Scripts;
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

  async create(reg: Registration, maxPerNumber = 0): Promise<boolean | QuotaExceeded> {
    const { k } = this;
    const created = await guard('registration.create', () =>
      this.lua.regCreate(
        k.registration(reg.registrationId),
        k.registrationByDevice(reg.phoneNumber, reg.deviceId),
        k.registrationsDue(),
        k.registrationsByNumber(reg.phoneNumber),
        JSON.stringify({ ...reg, version: 1 }),
        this.ttl(reg),
        reg.dueAt,
        reg.registrationId,
        reg.expiresAt,
        this.clock.now(),
        maxPerNumber,
      ),
    );
    return created < 0 ? quotaExceeded(-created, maxPerNumber) : created === 1;
  }

  async get(registrationId: string): Promise<Registration | undefined> {
    const [v, d] = await guard('registration.get', () => this.redis.hmget(this.k.registration(registrationId), 'v', 'd'));
    return this.parse(v, d);
  }

  async findByDevice(phoneNumber: string, deviceId: string): Promise<Registration | undefined> {
    const id = await guard('registration.findByDevice', () => this.redis.get(this.k.registrationByDevice(phoneNumber, deviceId)));
    return id ? this.get(id) : undefined;
  }

  async hasDevice(phoneNumber: string, deviceId: string): Promise<boolean> {
    // the device key lives exactly as long as the record it names (regCreate)
    return (await guard('registration.hasDevice', () => this.redis.exists(this.k.registrationByDevice(phoneNumber, deviceId)))) === 1;
  }

  async update(next: Registration, expectedVersion: number): Promise<Registration | undefined> {
    const { k } = this;
    const ok = await guard('registration.update', () =>
      this.lua.regUpdate(
        k.registration(next.registrationId),
        k.registrationByDevice(next.phoneNumber, next.deviceId),
        k.registrationsDue(),
        k.registrationsByNumber(next.phoneNumber),
        expectedVersion,
        JSON.stringify(next),
        this.ttl(next),
        next.dueAt,
        next.registrationId,
        next.expiresAt,
        this.clock.now(),
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
      this.lua.regDelete(
        k.registration(registrationId),
        k.registrationByDevice(cur.phoneNumber, cur.deviceId),
        k.registrationsDue(),
        k.registrationsByNumber(cur.phoneNumber),
        expectedVersion === undefined ? '' : String(expectedVersion),
        registrationId,
      ),
    );
    return ok === 1;
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<Registration[]> {
    const { k } = this;
    const ids = await guard('registration.claimDue', () => this.redis.zrangebyscore(k.registrationsDue(), '-inf', now, 'LIMIT', 0, limit));
    if (ids.length === 0) return [];
    const flat = await guard('registration.claimDue', () => this.lua.regClaim(1 + ids.length, k.registrationsDue(), ...ids.map((id) => k.registration(id)), now, leaseMs, ...ids));
    const out: Registration[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const r = this.parse(flat[i], flat[i + 1]);
      if (r) out.push(r);
    }
    return out;
  }

  async countActiveByNumber(phoneNumber: string, now: number): Promise<number> {
    return guard('registration.countActiveByNumber', () => this.redis.zcount(this.k.registrationsByNumber(phoneNumber), `(${now}`, '+inf'));
  }

  async count(): Promise<number> {
    return guard('registration.count', () => this.redis.zcard(this.k.registrationsDue()));
  }
}
