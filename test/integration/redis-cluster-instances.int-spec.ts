import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import pino from 'pino';
import { RedisCluster } from '../../src/cluster/redis-cluster';
import { createRedisClient } from '../../src/store/redis/redis-client';
import { RedisClusterLab, startRedisCluster } from '../support/redis-topologies';

/**
 * What several instances need from a 3-master Redis Cluster beyond the stores' contracts:
 * - forwarding: PUBLISH reaches the node it is sent to (a random one) and counts only that node's
 *   subscribers, while the message travels to the others over the cluster bus; a forward must not
 *   take a 0 there for "the owner is gone";
 * - the client: scripts on keys of different nodes issued in the same tick all run (no shared
 *   pipeline refused for spanning nodes).
 */
describe('instances on a Redis Cluster', () => {
  let lab: RedisClusterLab;
  const clients: Redis[] = [];
  const members: RedisCluster[] = [];
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    lab = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(members.map((m) => m.beforeApplicationShutdown()));
    for (const c of clients) c.disconnect();
    await lab?.stop();
  });

  async function member(prefix: string): Promise<RedisCluster> {
    const redis = createRedisClient({ mode: 'cluster', nodes: lab.ports.map((port) => ({ host: '127.0.0.1', port })), password: undefined, where: 'test', writeReplicas: 0 });
    await redis.connect();
    clients.push(redis);
    const m = new RedisCluster(redis, { prefix, leaseMs: 5000, forwardTimeoutMs: 3000 }, logger);
    await m.onApplicationBootstrap();
    members.push(m);
    return m;
  }

  it('every forward to a live owner is answered by it, whichever node the PUBLISH reached; an unknown owner is no-listener', async () => {
    const prefix = `f-${randomUUID().slice(0, 8)}:`;
    const [a, b] = [await member(prefix), await member(prefix)];
    let served = 0;
    a.serve(async (req) => {
      served++;
      return { ok: true, value: { id: req.mediaSessionId } };
    });
    // 20 publishes over 3 nodes: with the node-local count, some would have come back "no-listener"
    const outcomes = [];
    for (let i = 0; i < 20; i++) outcomes.push(await b.forward(a.instanceId, { op: 'remove', mediaSessionId: `s${i}`, phoneNumber: '+1' }));
    expect(outcomes).toEqual(Array.from({ length: 20 }, (_, i) => ({ kind: 'answered', reply: { ok: true, value: { id: `s${i}` } } })));
    expect(served).toBe(20);
    await expect(b.forward('gone-instance', { op: 'remove', mediaSessionId: 's', phoneNumber: '+1' })).resolves.toEqual({ kind: 'no-listener' });
  }, 60_000);

  it('the gateway client runs scripts on keys of every node issued in one tick', async () => {
    const redis = createRedisClient({ mode: 'cluster', nodes: lab.ports.map((port) => ({ host: '127.0.0.1', port })), password: undefined, where: 'test', writeReplicas: 0 });
    await redis.connect();
    clients.push(redis);
    // like the stores' scripts: numkeys given by the caller, so ioredis does not know the key position
    redis.defineCommand('touchTagged', { lua: "return redis.call('INCR', KEYS[1])" });
    const touch = (redis as Redis & { touchTagged(numkeys: number, key: string): Promise<number> }).touchTagged.bind(redis);
    const tags = ['reg', 'sess', 'ev', 'cl', 'a', 'b', 'c', 'd'];
    const results = await Promise.allSettled(tags.flatMap((t) => Array.from({ length: 5 }, (_, i) => touch(1, `t-${randomUUID().slice(0, 6)}:{${t}}:${i}`))));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String(r.reason))).toEqual([]);
    expect(results).toHaveLength(40);
  }, 60_000);
});
