/**
 * The gateway's Redis client (`createRedisClient`) against the lab's Redis: the commands of one
 * event-loop turn reach the socket as one write (`writesBatchedPerTick`), each still answered on
 * its own and in order.
 */
import Redis from 'ioredis';
import { createRedisClient } from '../../src/store/redis/redis-client';
import { startRedis, type RedisInstance } from '../support/lab';

describe('gateway Redis client', () => {
  let redis: RedisInstance;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  /** Three commands sent in one turn, and the socket's state right after them. */
  async function oneTurn(client: Redis): Promise<{ corked: number; buffered: number; replies: unknown[]; corkedAfterTick: number }> {
    const pending = [client.set('k:a', '1'), client.incr('k:n'), client.get('k:a')];
    const corked = client.stream.writableCorked;
    const buffered = client.stream.writableLength;
    await new Promise<void>((resolve) => process.nextTick(resolve));
    const corkedAfterTick = client.stream.writableCorked;
    return { corked, buffered, replies: await Promise.all(pending), corkedAfterTick };
  }

  it('writes the commands of one turn together, then answers each in order', async () => {
    const client = createRedisClient({ mode: 'single', url: redis.url, where: 'REDIS_URL' });
    try {
      await client.connect();
      await client.del('k:a', 'k:n');
      const turn = await oneTurn(client);
      expect(turn.corked).toBe(1);
      expect(turn.buffered).toBeGreaterThan(0);
      expect(turn.corkedAfterTick).toBe(0);
      expect(turn.replies).toEqual(['OK', 1, '1']);
      const next = await oneTurn(client);
      expect(next.replies).toEqual(['OK', 2, '1']);
    } finally {
      client.disconnect();
    }
  });

  it('a plain ioredis client writes each command at once (control)', async () => {
    const client = new Redis(redis.url, { lazyConnect: true, enableAutoPipelining: false });
    try {
      await client.connect();
      await client.del('k:a', 'k:n');
      const turn = await oneTurn(client);
      expect(turn.corked).toBe(0);
      expect(turn.buffered).toBe(0);
      expect(turn.replies).toEqual(['OK', 1, '1']);
    } finally {
      client.disconnect();
    }
  });
});
