import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { Cluster } from 'ioredis';
import Redis_ from 'ioredis';
import { createRedisClient, keys, scriptRunner } from '../../src/store/redis/redis-client';
import { RedisEventQueue } from '../../src/store/redis/redis-event-queue';
import { RedisRegistrationStore } from '../../src/store/redis/redis-registration.store';
import { RedisSessionStore } from '../../src/store/redis/redis-session.store';
import { RedisSubscriptionStore } from '../../src/store/redis/redis-subscription.store';
import { quotaContract } from '../../src/store/quota.contract';
import { registrationStoreContract } from '../../src/store/registration-store.contract';
import { sessionStoreContract } from '../../src/store/session-store.contract';
import { sessionFanOutContract } from '../../src/store/session-fan-out.contract';
import { ManualClock, subscriptionStoreContract } from '../../src/store/subscription-store.contract';
import { RedisClusterLab, startRedisCluster } from '../support/redis-topologies';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Issue #15: every store, through the gateway's own Cluster client, on a 3-master Redis Cluster. */
describe('stores on a 3-master Redis Cluster', () => {
  let lab: RedisClusterLab;
  let redis: Redis;
  const freshPrefix = (): string => `c-${randomUUID().slice(0, 8)}:`;

  beforeAll(async () => {
    lab = await startRedisCluster();
    redis = createRedisClient({ mode: 'cluster', nodes: lab.ports.map((port) => ({ host: '127.0.0.1', port })), password: undefined, where: 'test', writeReplicas: 0 });
    await redis.connect();
  }, 60_000);
  afterAll(async () => {
    await redis?.quit().catch(() => redis.disconnect());
    await lab?.stop();
  });

  it('is the gateway Cluster client, connected to three masters', async () => {
    expect(redis).toBeInstanceOf(Cluster);
    expect((redis as unknown as Cluster).nodes('master')).toHaveLength(3);
  });

  it("with REDIS_WRITE_REPLICAS each script's WAIT runs on the script's node, and a write without its copy fails", async () => {
    const acked = createRedisClient({ mode: 'cluster', nodes: lab.ports.map((port) => ({ host: '127.0.0.1', port })), password: undefined, where: 'test', writeReplicas: 1 });
    const monitors: Array<{ port: number; commands: string[]; m: Redis }> = [];
    const plain: Redis[] = [];
    try {
      await acked.connect();
      for (const port of lab.ports) {
        const commands: string[] = [];
        // monitor() opens a connection of its own beside the client's
        const client = new Redis_({ host: '127.0.0.1', port, lazyConnect: true });
        plain.push(client);
        const m = await client.monitor();
        m.on('monitor', (_time: string, args: string[]) => commands.push(args.join(' ')));
        monitors.push({ port, commands, m });
      }
      const key = `${freshPrefix()}{ev}:probe`;
      const script = { keys: ['k'], lua: "redis.call('SET', KEYS[1], ARGV[1]); return 1" };
      // this lab's masters have no replica: the write is made, but not acknowledged
      await expect(scriptRunner(acked)(script, [key], ['v'])).rejects.toThrow('0 of 1 replicas acknowledged the write');
      await sleep(200);
      const ran = monitors.filter((n) => n.commands.some((c) => c.includes(key)));
      expect(ran).toHaveLength(1);
      expect(ran[0]?.commands.some((c) => /^wait 1 250$/i.test(c))).toBe(true);
      for (const other of monitors.filter((n) => n !== ran[0])) expect(other.commands.filter((c) => /^wait /i.test(c))).toEqual([]);
    } finally {
      for (const { m } of monitors) m.disconnect();
      for (const client of plain) client.disconnect();
      acked.disconnect();
    }
  });

  it('puts every key of one aggregate in one slot (what lets each script run on one node)', async () => {
    const k = keys('gw:');
    const byTag = {
      reg: [k.registration('r1'), k.registrationByDevice('+1', 'd'), k.registrationsDue(), k.registrationsByNumber('+1')],
      // sessions with the subscriptions and queues: a transition and its event fan-out are one script
      ev: [
        k.session('s1'),
        k.sessionByCallId('c|t'),
        k.sessionsActive(),
        k.sessionsByNumber('+1'),
        k.subscription('x'),
        k.subscriptionsByDevice('+1', 'd'),
        k.subscriptionsByOwner('+1'),
        k.subscriptionsDue(),
        k.subscriptionsActiveByDevice('+1', 'd'),
        k.queue('x'),
        k.queueHead('x'),
        k.queueSequence('x'),
        k.queueLease('x'),
        k.queuesReady(),
        k.queueBacklog(),
      ],
    };
    const [node] = (redis as unknown as Cluster).nodes('master');
    if (!node) throw new Error('no master');
    for (const names of Object.values(byTag)) {
      const slots = await Promise.all(names.map((name) => node.call('CLUSTER', 'KEYSLOT', name)));
      expect(new Set(slots).size).toBe(1);
    }
  });

  sessionStoreContract('redis cluster', async () => ({ store: new RedisSessionStore(redis, freshPrefix()), now: () => Date.now(), advance: (ms) => sleep(ms), shortTtlMs: 1500 }));

  sessionFanOutContract('redis cluster', async () => {
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

  registrationStoreContract('redis cluster', async () => {
    const clock = new ManualClock(Date.now());
    return { store: new RedisRegistrationStore(redis, freshPrefix(), clock), now: () => clock.now() };
  });

  subscriptionStoreContract('redis cluster', async () => {
    const clock = new ManualClock();
    const prefix = freshPrefix();
    return { store: new RedisSubscriptionStore(redis, prefix, clock), queue: new RedisEventQueue(redis, prefix, clock), clock };
  });

  quotaContract('redis cluster', async () => {
    const clock = new ManualClock(Date.now());
    const prefix = freshPrefix();
    return { registrations: new RedisRegistrationStore(redis, prefix, clock), sessions: new RedisSessionStore(redis, prefix), subscriptions: new RedisSubscriptionStore(redis, prefix, clock), clock };
  });
});
