import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { REGISTRATION_GRACE_MS } from '../../src/store/registration-store';
import { aRegistration, registrationStoreContract } from '../../src/store/registration-store.contract';
import { keys } from '../../src/store/redis/redis-client';
import { RedisRegistrationStore } from '../../src/store/redis/redis-registration.store';
import { RedisSessionStore } from '../../src/store/redis/redis-session.store';
import { aSession, sessionStoreContract } from '../../src/store/session-store.contract';
import { ManualClock } from '../../src/store/subscription-store.contract';
import { quotaContract } from '../../src/store/quota.contract';
import { sessionFanOutContract } from '../../src/store/session-fan-out.contract';
import { RedisEventQueue } from '../../src/store/redis/redis-event-queue';
import { RedisSubscriptionStore } from '../../src/store/redis/redis-subscription.store';
import { eventually } from '../support/gateway';
import { RedisInstance, startRedis } from '../support/lab';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Redis session and registration stores (real Redis)', () => {
  let lab: RedisInstance;
  let redis: Redis;
  /** A fresh key prefix per test: every test sees an empty store. */
  const freshPrefix = (): string => `t-${randomUUID().slice(0, 8)}:`;

  beforeAll(async () => {
    lab = await startRedis();
    redis = lab.client();
  });
  afterAll(async () => {
    await lab?.stop();
  });

  // Records expire by Redis's own TTL, so time passes for real here: a short TTL, real waits.
  sessionStoreContract('redis', async () => ({
    store: new RedisSessionStore(redis, freshPrefix()),
    now: () => Date.now(),
    advance: (ms) => sleep(ms),
    shortTtlMs: 1500,
  }));

  // The store computes its TTL (expiresAt + grace) from a clock we control, but Redis expires
  // keys on its own clock, which no test can move: `advance` stays undefined, so the contract's
  // "forgets after grace" case is skipped here and covered by the two Redis-only tests below.
  registrationStoreContract('redis', async () => {
    const clock = new ManualClock(Date.now());
    return { store: new RedisRegistrationStore(redis, freshPrefix(), clock), now: () => clock.now() };
  });

  // Real time (sessions score their index with Redis TIME); the clock moves only the stores' own reading of it.
  quotaContract('redis', async () => {
    const clock = new ManualClock(Date.now());
    const prefix = freshPrefix();
    return { registrations: new RedisRegistrationStore(redis, prefix, clock), sessions: new RedisSessionStore(redis, prefix), subscriptions: new RedisSubscriptionStore(redis, prefix, clock), clock };
  });

  sessionFanOutContract('redis', async () => {
    const clock = new ManualClock(Date.now());
    const prefix = freshPrefix();
    return {
      sessions: new RedisSessionStore(redis, prefix, clock),
      subscriptions: new RedisSubscriptionStore(redis, prefix, clock),
      queue: new RedisEventQueue(redis, prefix, clock),
      clock,
      atomic: true,
    };
  });

  describe('Redis-only', () => {
    it('keeps a session whole when two instances write it in turn (each sends only what it knows changed)', async () => {
      const prefix = freshPrefix();
      const [a, b] = [new RedisSessionStore(redis, prefix), new RedisSessionStore(redis, prefix)];
      const s = aSession(Date.now(), { answer: 'v=0\r\na=answer\r\n' });
      await a.create(s, 60_000);
      const atB = await b.get(s.mediaSessionId);
      await b.update({ ...atB!, status: 'Ringing', sipCode: 180 }, 1, 60_000);
      // a last wrote version 1: its update at version 2 writes every field
      await a.update({ ...s, status: 'Connected', sipCode: 200, answer: undefined }, 2, 60_000);
      expect(await b.get(s.mediaSessionId)).toEqual({ ...s, status: 'Connected', sipCode: 200, answer: undefined, version: 3 });
      // and then only what changed
      await a.update({ ...s, status: 'Connected', sipCode: 200, answer: undefined, remoteSdp: 'v=0\r\n' }, 3, 60_000);
      expect(await b.get(s.mediaSessionId)).toEqual({ ...s, status: 'Connected', sipCode: 200, answer: undefined, remoteSdp: 'v=0\r\n', version: 4 });
      expect(await redis.hget(keys(prefix).session(s.mediaSessionId), 'answer')).toBeNull();
    });

    it('keeps a registration record for expiresAt + grace (PTTL)', async () => {
      const clock = new ManualClock(Date.now());
      const prefix = freshPrefix();
      const store = new RedisRegistrationStore(redis, prefix, clock);
      const r = aRegistration(clock.now(), { expiresAt: clock.now() + 60_000 });
      await store.create(r);
      const expected = 60_000 + REGISTRATION_GRACE_MS;
      const k = keys(prefix);
      for (const key of [k.registration(r.registrationId), k.registrationByDevice(r.phoneNumber, r.deviceId)]) {
        const pttl = await redis.pttl(key);
        expect(pttl).toBeGreaterThan(expected - 2000);
        expect(pttl).toBeLessThanOrEqual(expected);
      }
    });

    it('forgets a registration once its grace period is over (real expiry)', async () => {
      const clock = new ManualClock(Date.now());
      const store = new RedisRegistrationStore(redis, freshPrefix(), clock);
      // expired a grace period ago, bar 200 ms: the store's 1 s TTL floor applies
      const r = aRegistration(clock.now(), { expiresAt: clock.now() - REGISTRATION_GRACE_MS + 200, dueAt: clock.now() - 1 });
      await store.create(r);
      expect(await store.get(r.registrationId)).toBeDefined();
      // Redis expires it by itself (1 s TTL floor): wait for that, bounded
      await eventually(async () => (await store.get(r.registrationId)) === undefined, 5000, 'the record to expire');
      expect(await store.findByDevice(r.phoneNumber, r.deviceId)).toBeUndefined();
      // the due index still holds the id until a claim sweeps it out
      expect(await store.claimDue(Date.now(), 10, 30_000)).toEqual([]);
      expect(await store.count()).toBe(0);
    });

    it('does not trip over the plain SET `sessactive` left by versions before the sorted set', async () => {
      const prefix = freshPrefix();
      await redis.sadd(`${prefix}sessactive`, 'old-1', 'old-2');
      const store = new RedisSessionStore(redis, prefix);
      await store.create(aSession(Date.now(), { status: 'Ringing' }), 60_000);
      expect(await store.countActive()).toBe(1);
    });

    it('gives each active session an expiry score from Redis time + ttl, and drops it when final', async () => {
      const prefix = freshPrefix();
      const store = new RedisSessionStore(redis, prefix);
      const s = aSession(Date.now(), { status: 'Ringing' });
      await store.create(s, 60_000);
      const [sec] = await redis.time();
      const score = Number(await redis.zscore(keys(prefix).sessionsActive(), s.mediaSessionId));
      expect(score).toBeGreaterThan(Number(sec) * 1000 + 55_000);
      expect(score).toBeLessThanOrEqual(Number(sec) * 1000 + 61_000);
      await store.update({ ...s, status: 'Terminated' }, 1, 60_000);
      expect(await redis.zscore(keys(prefix).sessionsActive(), s.mediaSessionId)).toBeNull();
    });
  });
});
