import { spawn, ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import Redis from 'ioredis';
import { RedisEventQueue } from '../../src/store/redis/redis-event-queue';
import { keys } from '../../src/store/redis/redis-client';
import { RedisSubscriptionStore } from '../../src/store/redis/redis-subscription.store';
import { ManualClock, subscriptionStoreContract } from '../../src/store/subscription-store.contract';
import { eventually } from '../support/gateway';

// NOTE: a local redis-server starter until test/support/lab.ts#startRedis lands.
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

describe('Redis subscription store and event queue', () => {
  let lab: { url: string; stop: () => Promise<void> };
  let redis: Redis;
  let prefix = 0;

  beforeAll(async () => {
    lab = await startRedis();
    redis = new Redis(lab.url);
  });
  afterAll(async () => {
    await redis.quit();
    await lab.stop();
  });

  subscriptionStoreContract('redis', async () => {
    const clock = new ManualClock();
    prefix += 1;
    return { store: new RedisSubscriptionStore(redis, `t${prefix}:`, clock), queue: new RedisEventQueue(redis, `t${prefix}:`, clock), clock };
  });

  it("gives a crashed owner's lease to another instance once it expires", async () => {
    const q = new RedisEventQueue(redis, 'lease:');
    await q.enqueue({ id: 'e1', subscriptionId: 's1', type: 'org.camaraproject.webrtc-events.v0.session-status', time: new Date().toISOString(), data: {} });
    const claim = async (owner: string) => (await q.claimReadyHeads(Date.now(), 10, 200, owner)).map((c) => c.subscriptionId);
    const claimedAt = Date.now();
    expect(await claim('A')).toEqual(['s1']);
    expect(await claim('B')).toEqual([]);
    // B gets it once A's 200 ms lease ran out, not before
    await eventually(async () => (await claim('B')).length === 1, 5000, "B's claim after the lease");
    expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(200);
    expect(await q.ack('s1', 'e1', 'A')).toBe(false);
    expect(await q.ack('s1', 'e1', 'B')).toBe(true);
  });

  it('sets record TTLs from endsAt and keeps never-ending ones', async () => {
    const store = new RedisSubscriptionStore(redis, 'ttl:');
    const base = {
      owner: '+1',
      phoneNumber: '+1',
      deviceId: 'd',
      protocol: 'HTTP' as const,
      sink: 'https://x',
      types: ['org.camaraproject.webrtc-events.v0.session-status' as const],
      startsAt: '',
      state: 'ACTIVE' as const,
      version: 0,
    };
    await store.create({ ...base, id: 'a', endsAt: Date.now() + 10_000 });
    await store.create({ ...base, id: 'b' });
    const k = keys('ttl:');
    expect(await redis.pttl(k.subscription('a'))).toBeGreaterThan(0);
    expect(await redis.pttl(k.subscription('b'))).toBe(-1);
    expect(await redis.pttl(k.subscriptionsByDevice('+1', 'd'))).toBe(-1);
  });

  it('fans out to a subscription another instance created after this one cached the device (stale keys are refused, then retried)', async () => {
    const prefix = 'stale:';
    const store = new RedisSubscriptionStore(redis, prefix);
    const first = new RedisEventQueue(redis, prefix);
    const base = {
      owner: '+1',
      phoneNumber: '+1',
      deviceId: 'd',
      protocol: 'HTTP' as const,
      sink: 'https://x',
      types: ['org.camaraproject.webrtc-events.v0.session-status' as const],
      startsAt: '',
      state: 'ACTIVE' as const,
      version: 0,
    };
    const fan = (ids: string[]) => ({ phoneNumber: '+1', deviceId: 'd', type: 'org.camaraproject.webrtc-events.v0.session-status' as const, time: new Date().toISOString(), data: {}, ids });
    await store.create({ ...base, id: 'a' });
    expect(await first.fanOut(fan(['e1', 'e2']))).toMatchObject({ kind: 'enqueued', events: [{ subscriptionId: 'a' }] });
    await store.create({ ...base, id: 'b' }); // as another instance would
    const r = await first.fanOut(fan(['e3', 'e4']));
    expect(r.kind === 'enqueued' && r.events.map((e) => e.subscriptionId).sort()).toEqual(['a', 'b']);
    await store.purge('a');
    const after = await first.fanOut(fan(['e5', 'e6']));
    expect(after.kind === 'enqueued' && after.events.map((e) => e.subscriptionId)).toEqual(['b']);
  });

  it('gives every key of the event store the {ev} hash tag (one Cluster slot per script)', () => {
    const k = keys('gw:');
    const eventKeys = [
      k.subscription('s'),
      k.subscriptionsByDevice('+1', 'd'),
      k.subscriptionsByOwner('+1'),
      k.subscriptionsDue(),
      k.queue('s'),
      k.queueHead('s'),
      k.queueSequence('s'),
      k.queueLease('s'),
      k.queuesReady(),
      k.queueBacklog(),
    ];
    for (const key of eventKeys) expect(key).toMatch(/^gw:\{ev\}:/);
  });
});
