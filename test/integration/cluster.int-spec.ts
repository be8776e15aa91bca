import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { RedisCluster } from '../../src/cluster/redis-cluster';
import { RedisInstance, startRedis } from '../support/lab';
import { eventually } from '../support/gateway';

/** The cluster port on a real Redis: request/reply between instances, leases, adoption, release. */
describe('RedisCluster (real Redis)', () => {
  let lab: RedisInstance;
  const clients: Redis[] = [];
  const members: RedisCluster[] = [];
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    lab = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(members.splice(0).map((m) => m.beforeApplicationShutdown()));
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await lab?.stop();
  });

  async function member(prefix: string, opts: { leaseMs?: number; forwardTimeoutMs?: number } = {}): Promise<RedisCluster> {
    const redis = lab.client();
    clients.push(redis);
    const m = new RedisCluster(redis, { prefix, leaseMs: opts.leaseMs ?? 1000, forwardTimeoutMs: opts.forwardTimeoutMs ?? 2000 }, logger);
    await m.onApplicationBootstrap();
    members.push(m);
    return m;
  }
  const prefix = (): string => `c-${randomUUID().slice(0, 8)}:`;

  it("a forwarded request is answered by the owner's handler, errors included", async () => {
    const p = prefix();
    const [a, b] = [await member(p), await member(p)];
    a.serve(async (req) =>
      req.op === 'remove'
        ? { ok: false, error: { status: 409, code: 'INCOMPATIBLE_STATE', message: `no ${req.mediaSessionId}` } }
        : { ok: true, value: { echo: req.body, correlator: req.correlator } },
    );
    await expect(b.forward(a.instanceId, { op: 'update-status', mediaSessionId: 's', phoneNumber: '+1', body: { status: 'Ringing' }, correlator: 'req-42' })).resolves.toEqual({
      kind: 'answered',
      reply: { ok: true, value: { echo: { status: 'Ringing' }, correlator: 'req-42' } },
    });
    await expect(b.forward(a.instanceId, { op: 'remove', mediaSessionId: 's', phoneNumber: '+1' })).resolves.toEqual({
      kind: 'answered',
      reply: { ok: false, error: { status: 409, code: 'INCOMPATIBLE_STATE', message: 'no s' } },
    });
  });

  it('an owner that does not answer in time is a timeout; an owner nobody listens for is no-listener at once', async () => {
    const p = prefix();
    const [a, b] = [await member(p), await member(p, { forwardTimeoutMs: 300 })];
    a.serve(() => new Promise(() => undefined));
    const started = Date.now();
    await expect(b.forward(a.instanceId, { op: 'remove', mediaSessionId: 's', phoneNumber: '+1' })).resolves.toEqual({ kind: 'timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await expect(b.forward('gone-instance', { op: 'remove', mediaSessionId: 's', phoneNumber: '+1' })).resolves.toEqual({ kind: 'no-listener' });
  });

  it('a lapsed lease is adopted by exactly one survivor, within about a lease', async () => {
    const p = prefix();
    const lost = await member(p, { leaseMs: 1000 });
    const survivors = [await member(p, { leaseMs: 1000 }), await member(p, { leaseMs: 1000 })];
    const adopted: string[] = [];
    for (const s of survivors) s.onOwnerLost(async (owner) => void adopted.push(`${s.instanceId}<-${owner}`));
    // death: heartbeats stop, nothing released
    await lost.beforeApplicationShutdown();
    const diedAt = Date.now();
    await eventually(async () => adopted.length > 0, 5000, 'adoption');
    expect(Date.now() - diedAt).toBeLessThan(3000);
    // once removed from the instances, no later sweep can see it again
    const probe = lab.client();
    clients.push(probe);
    await eventually(async () => (await probe.zscore(`${p}{cl}:instances`, lost.instanceId)) === null, 3000, 'lost instance removed');
    expect(adopted).toHaveLength(1);
    expect(adopted[0]).toMatch(new RegExp(`<-${lost.instanceId}$`));
  });

  it('a drained instance runs its hand-over, then releases its lease: adopted at once, long before it would lapse', async () => {
    const p = prefix();
    const leaving = await member(p, { leaseMs: 60_000 });
    const survivor = await member(p, { leaseMs: 1000 });
    const order: string[] = [];
    leaving.onDrain(async () => void order.push('hand-over'));
    survivor.onOwnerLost(async (owner) => void order.push(`adopted ${owner === leaving.instanceId ? 'leaving' : owner}`));
    leaving.drain();
    expect(leaving.draining).toBe(true);
    await leaving.beforeApplicationShutdown();
    await eventually(async () => order.length === 2, 2000, 'adoption after release');
    expect(order).toEqual(['hand-over', 'adopted leaving']);
  });
});
