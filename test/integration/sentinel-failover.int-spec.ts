import type Redis from 'ioredis';
import { Writable } from 'node:stream';
import pino from 'pino';
import { redisTopology } from '../../src/config/redis-topology';
import { createRedisClient } from '../../src/store/redis/redis-client';
import { duplicateFollowed, followerOf } from '../../src/store/redis/sentinel-failover';
import { eventually } from '../support/gateway';
import { RedisSentinelLab, startRedisSentinel } from '../support/redis-topologies';

const remotePort = (client: Redis): number | undefined => (client.stream as { remotePort?: number } | undefined)?.remotePort;

/**
 * A Sentinel-managed master frozen (SIGSTOP: its connections stay open, nothing answers) while the
 * gateway's clients are connected: the sentinels promote the replica, and the followed clients move
 * to it on the sentinels' announcement, while the old master is still frozen. A client without the
 * follower (the control) stays on the frozen master, so the test would fail without it.
 */
describe('SentinelFailoverFollower (real Redis Sentinel)', () => {
  let sentinel: RedisSentinelLab;
  let thaw: (() => void) | undefined;
  const clients: Redis[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  );

  beforeAll(async () => {
    sentinel = await startRedisSentinel();
  }, 60_000);
  afterAll(async () => {
    thaw?.();
    for (const c of clients) {
      followerOf(c)?.stop();
      c.disconnect();
    }
    await sentinel?.stop();
  });

  it('moves the command client and its duplicate (a subscriber) to the promoted master while the old one is frozen', async () => {
    const problems: string[] = [];
    const topology = redisTopology({ REDIS_SENTINELS: sentinel.sentinelsEnv, REDIS_SENTINEL_NAME: sentinel.name }, problems);
    if (topology?.mode !== 'sentinel') throw new Error(`expected a sentinel topology: ${problems.join('; ')}`);
    const followed = createRedisClient(topology, logger);
    const control = createRedisClient(topology);
    clients.push(followed, control);
    followed.on('error', () => undefined);
    control.on('error', () => undefined);
    await Promise.all([followed.connect(), control.connect()]);
    const subscriber = duplicateFollowed(followed);
    clients.push(subscriber);
    subscriber.on('error', () => undefined);
    const received: string[] = [];
    subscriber.on('message', (_channel: string, text: string) => received.push(text));
    await subscriber.connect();
    await subscriber.subscribe('gw-test');
    const follower = followerOf(followed);
    expect(follower).toBeDefined();
    follower?.start();
    await follower?.subscribed;
    expect(followerOf(control)).toBeUndefined();

    const from = await sentinel.masterPort();
    expect(remotePort(followed)).toBe(from);
    expect(remotePort(control)).toBe(from);

    const frozen = await sentinel.freezeMaster();
    thaw = frozen.thaw;
    expect(frozen.to).not.toBe(from);

    // the followed clients answer from the new master while the old one is still frozen
    await eventually(async () => remotePort(followed) === frozen.to && (await followed.role())[0] === 'master', 5_000, `the client on ${frozen.to}`);
    await followed.set('after-freeze', 'written');
    expect(await followed.get('after-freeze')).toBe('written');
    await eventually(async () => remotePort(subscriber) === frozen.to && subscriber.status === 'ready', 5_000, `the subscriber on ${frozen.to}`);
    await eventually(async () => (await followed.publish('gw-test', 'hello')) === 1 && received.includes('hello'), 5_000, 'a message through the new master');
    expect(lines).toContainEqual(expect.objectContaining({ master: `127.0.0.1:${frozen.to}`, msg: 'Redis Sentinel promoted a new master: connections moved to it' }));

    // the control: without the follower, the client is still on the frozen master and gets no answer
    expect(remotePort(control)).toBe(from);
    await expect(control.ping()).rejects.toThrow(/timed out/i);
  }, 60_000);
});
