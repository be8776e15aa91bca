import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import pino from 'pino';
import { RedisCluster } from '../../src/cluster/redis-cluster';
import { createRedisClient } from '../../src/store/redis/redis-client';
import { RedisClusterLab, startRedisCluster } from '../support/redis-topologies';

/**
 * Forwarding between instances on a 3-master Redis Cluster: PUBLISH reaches the node it is sent to
 * (a random one) and counts only that node's subscribers, while the message travels to the others
 * over the cluster bus. A forward must not take a 0 there for "the owner is gone".
 */
describe('RedisCluster forwarding on a Redis Cluster', () => {
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
    const redis = createRedisClient({ mode: 'cluster', nodes: lab.ports.map((port) => ({ host: '127.0.0.1', port })), password: undefined, where: 'test' });
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
});
