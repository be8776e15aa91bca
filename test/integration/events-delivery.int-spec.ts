import { spawn, ChildProcess } from 'node:child_process';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import Redis from 'ioredis';
import pino from 'pino';
import { freePort } from '../support/ports';
import { DeliveryWorker, DeliveryWorkerOptions } from '../../src/events/delivery-worker';
import { WebrtcEventType } from '../../src/events/event-publisher';
import { EventMetrics, type EventTelemetry } from '../../src/events/event-metrics';
import { QueueingEventPublisher } from '../../src/events/queueing-event-publisher';
import { exponentialBackoff } from '../../src/events/retry-schedule';
import { SinkPolicy, SinkRejectedError } from '../../src/events/sink-address';
import { UndiciSinkTransport } from '../../src/events/sink-client';
import { SubscriptionLifecycle } from '../../src/events/subscription-lifecycle';
import { RedisEventQueue } from '../../src/store/redis/redis-event-queue';
import { RedisSubscriptionStore } from '../../src/store/redis/redis-subscription.store';
import type { StoredSubscription } from '../../src/store/subscription-store';

// NOTE: a local redis-server starter until test/support/lab.ts#startRedis lands.
async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort('tcp');
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const ok = await probe
      .connect()
      .then(() => probe.ping())
      .then(
        () => true,
        () => false,
      );
    probe.disconnect();
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, stop: () => new Promise<void>((resolve) => (proc.exitCode !== null ? resolve() : (proc.once('exit', () => resolve()), proc.kill('SIGTERM')))) };
}

interface Received {
  headers: IncomingMessage['headers'];
  body: { id: string; type: string; data: Record<string, unknown> };
}

/** A real webhook sink on 127.0.0.1. `respond` decides the status. */
class Sink {
  readonly received: Received[] = [];
  /** Every request, answered or not: when it arrived and the status given (undefined: left hanging). */
  readonly attempts: Array<{ at: number; status?: number; id: string }> = [];
  respond: (r: Received) => number | 'hang' = () => 204;
  /** Retry-After (seconds) sent with 429 and 503. */
  retryAfterS: number | undefined;
  private server: Server | undefined;
  constructor(readonly port: number) {}
  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }
  async up(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const r: Received = { headers: req.headers, body: JSON.parse(raw) as Received['body'] };
        const status = this.respond(r);
        this.attempts.push({ at: Date.now(), id: r.body.id, ...(status !== 'hang' && { status }) });
        if (status === 'hang') return; // never answered: the client's timeout decides
        if (status < 300) this.received.push(r);
        if (this.retryAfterS !== undefined && (status === 429 || status === 503)) res.setHeader('Retry-After', String(this.retryAfterS));
        res.statusCode = status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', () => resolve()));
  }
  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s)
      await new Promise<void>((resolve) => {
        s.closeAllConnections();
        s.close(() => resolve());
      });
  }
}

const logger = pino({ level: 'silent' });
const audience = { phoneNumber: '+34600000001', deviceId: '7d444840-9dc0-11d1-b245-5ffdce74fad2' };

describe('webhook delivery (real HTTP sink, real Redis)', () => {
  let lab: { url: string; stop: () => Promise<void> };
  const clients: Redis[] = [];
  const workers: DeliveryWorker[] = [];
  let n = 0;

  beforeAll(async () => {
    lab = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit()));
    await lab.stop();
  });

  /** One "gateway instance": its own Redis connection, stores, worker. */
  function instance(prefix: string, allowPrivateSinks = true, over: Partial<DeliveryWorkerOptions> = {}, telemetry?: EventTelemetry, sinkTimeoutMs = 5000) {
    const redis = new Redis(lab.url);
    clients.push(redis);
    const store = new RedisSubscriptionStore(redis, prefix);
    const queue = new RedisEventQueue(redis, prefix);
    const metrics = new EventMetrics(queue, telemetry);
    const lifecycle = new SubscriptionLifecycle(store, queue, logger);
    const transport = new UndiciSinkTransport(new SinkPolicy(allowPrivateSinks), sinkTimeoutMs);
    const worker = new DeliveryWorker(store, queue, transport, lifecycle, metrics, logger, {
      schedule: exponentialBackoff({ maxAttempts: 50, baseMs: 20, capMs: 200 }),
      pollMs: 20,
      leaseMs: 1000,
      ...over,
    });
    workers.push(worker);
    const publisher = new QueueingEventPublisher(store, queue, worker);
    return { store, queue, metrics, worker, publisher, lifecycle };
  }

  const subscription = (sink: string, over: Partial<StoredSubscription> = {}): StoredSubscription => ({
    id: `sub-${++n}`,
    owner: audience.phoneNumber,
    ...audience,
    protocol: 'HTTP',
    sink,
    types: [WebrtcEventType.sessionStatus],
    startsAt: new Date().toISOString(),
    state: 'ACTIVE',
    version: 0,
    ...over,
  });

  async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('sink down for a while, then up: every event arrives, in order', async () => {
    const sink = new Sink(await freePort('tcp'));
    const gw = instance(`d${++n}:`);
    await gw.store.create(subscription(sink.url));
    gw.worker.start();
    for (let i = 1; i <= 10; i++) await gw.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Ringing', reason: `r${i}` });
    await until(() => gw.metrics.failedAttempts > 0); // connection refused meanwhile
    await sink.up();
    let calls = 0;
    sink.respond = () => (++calls <= 2 ? 503 : 204); // and a couple of 5xx on the way
    await until(() => sink.received.length === 10);
    expect(sink.received.map((r) => r.body.data.reason)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => `r${i}`));
    expect(sink.received.map((r) => r.body.data.sequenceNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(sink.received[0]?.headers['content-type']).toBe('application/cloudevents+json');
    expect(sink.received[0]?.headers['x-correlator']).toBeDefined();
    expect(gw.metrics.dropped).toBe(0);
    expect(await gw.metrics.backlog()).toBe(0);
    await sink.down();
  });

  it('a new instance (gateway restart) delivers what the previous one persisted', async () => {
    const sink = new Sink(await freePort('tcp'));
    await sink.up();
    const prefix = `r${++n}:`;
    const before = instance(prefix);
    await before.store.create(subscription(sink.url));
    for (let i = 1; i <= 3; i++) await before.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Ringing', reason: `r${i}` });
    // The first instance never ran its worker (it "crashed" after persisting).
    const after = instance(prefix);
    after.worker.start();
    await until(() => sink.received.length === 3);
    expect(sink.received.map((r) => r.body.data.reason)).toEqual(['r1', 'r2', 'r3']);
    await sink.down();
  });

  it("a crashed instance's lease expires and another takes over", async () => {
    const sink = new Sink(await freePort('tcp'));
    await sink.up();
    const prefix = `l${++n}:`;
    const a = instance(prefix);
    const s = subscription(sink.url);
    await a.store.create(s);
    await a.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Ringing' });
    const claimedAt = Date.now();
    expect((await a.queue.claimReadyHeads(Date.now(), 10, 300, 'crashed-instance')).map((c) => c.subscriptionId)).toEqual([s.id]);
    const b = instance(prefix);
    b.worker.start();
    await until(() => sink.received.length === 1);
    // not before the crashed instance's 300 ms lease ran out (every clock here is this process's)
    expect(sink.attempts[0]!.at - claimedAt).toBeGreaterThanOrEqual(300);
    await sink.down();
  });

  /**
   * The delivery path's cost, counted with MONITOR (client commands only: what runs inside a Lua
   * script is not a round trip). Per delivered event at most N = 2: the fan-out script (lookup +
   * enqueue + lease, hand-off in-process) and the ack-and-next script (ack + next head, or release).
   * Polls (2 per poll interval, with the interval growing to `idlePollMs` when idle) come on top
   * and are kept out of this window by a long poll interval.
   */
  it('costs at most 2 Redis round trips per delivered event, one at a time or in a burst', async () => {
    const N = 2;
    const sink = new Sink(await freePort('tcp'));
    await sink.up();
    const gw = instance(`rt${++n}:`, true, { pollMs: 60_000, idlePollMs: 60_000 });
    await gw.store.create(subscription(sink.url));
    gw.worker.start();
    // the start-up poll, done before the warm-up: a tick started now joins the one start() scheduled
    // (its 0 ms timer fires during this tick's first Redis round trip) and resolves when both are done
    await gw.worker.tick();
    await gw.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Connected', reason: 'warm-up' }); // scripts loaded (no NOSCRIPT retry below)
    await until(() => sink.received.length === 1);
    await gw.worker.idle();
    sink.received.length = 0;

    const base = new Redis(lab.url);
    clients.push(base); // monitor() opens its own connection; the base one is closed with the others
    const marker = new Redis(lab.url); // connected before MONITOR starts: its handshake is not counted
    clients.push(marker);
    await marker.ping();
    const MARK = 'rt-mark-';
    const marks = new Set<string>();
    const mon = await base.monitor();
    const by: Record<string, number> = {};
    let roundTrips = 0;
    let inLua = 0;
    mon.on('monitor', (_time: string, args: string[], source: string) => {
      if (source === 'lua' || source.endsWith(' lua')) {
        inLua += 1;
        return;
      }
      const cmd = (args[0] ?? '').toLowerCase();
      if (cmd === 'echo' && args[1]?.startsWith(MARK)) {
        marks.add(args[1]);
        return;
      }
      by[cmd] = (by[cmd] ?? 0) + 1;
      roundTrips += 1;
    });
    // MONITOR is asynchronous: a marker command from another connection, once seen, shows it caught up
    const caughtUp = async (name: string): Promise<void> => {
      await marker.echo(MARK + name);
      await until(() => marks.has(MARK + name));
    };
    await caughtUp('start');

    const single = 20;
    for (let i = 1; i <= single; i++) {
      await gw.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Connected', reason: `s${i}` });
      await until(() => sink.received.length === i);
    }
    const burst = 20;
    for (let i = 1; i <= burst; i++) await gw.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Connected', reason: `b${i}` });
    await until(() => sink.received.length === single + burst);
    await gw.worker.idle();
    await caughtUp('end');
    mon.disconnect();

    const events = single + burst;
    expect(sink.received.map((r) => r.body.data.sequenceNumber)).toEqual(Array.from({ length: events }, (_, i) => i + 2));
    expect(Object.keys(by)).toEqual(['evalsha']);
    expect(roundTrips).toBeLessThanOrEqual(N * events);
    expect(inLua / events).toBeLessThan(25);
    expect(await gw.metrics.backlog()).toBe(0);
    await sink.down();
  });

  it('410 ends the subscription', async () => {
    const sink = new Sink(await freePort('tcp'));
    await sink.up();
    sink.respond = () => 410;
    const gw = instance(`g${++n}:`);
    const s = subscription(sink.url);
    await gw.store.create(s);
    gw.worker.start();
    await gw.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Ringing' });
    await until(async () => (await gw.store.get(s.id)) === undefined);
    expect(await gw.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Ringing' })).toBe(0);
    expect(gw.metrics.dropped).toBe(1);
    await sink.down();
  });

  it('refuses a private sink without allowPrivateSinks, at creation and at delivery', async () => {
    const sink = new Sink(await freePort('tcp'));
    await sink.up();
    const policy = new SinkPolicy(false);
    await expect(policy.check(sink.url)).rejects.toBeInstanceOf(SinkRejectedError);
    await expect(policy.check(`https://127.0.0.1:${sink.port}/`)).rejects.toThrow(/non-public/);
    await expect(policy.check(`https://localhost:${sink.port}/`)).rejects.toThrow(/non-public/);
    // at delivery: one refused attempt, dropped as rejected (not a budget spent on retries)
    const seen: { attempts: string[]; drops: string[] } = { attempts: [], drops: [] };
    const recording: EventTelemetry = { eventDeliveryAttempt: (o) => seen.attempts.push(o), eventDelivered: () => undefined, eventDropped: (r) => seen.drops.push(r) };
    const gw = instance(`p${++n}:`, false, {}, recording);
    await gw.store.create(subscription(`http://localhost:${sink.port}/events`));
    gw.worker.start();
    await gw.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Ringing' });
    await until(() => gw.metrics.dropped === 1);
    expect(seen).toEqual({ attempts: ['refused'], drops: ['rejected'] });
    expect(sink.received).toHaveLength(0);
    // positive control: the same sink and event with private sinks allowed are delivered
    const allowed = instance(`p${++n}:`, true);
    await allowed.store.create(subscription(`http://localhost:${sink.port}/events`));
    allowed.worker.start();
    await allowed.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Ringing' });
    await until(() => sink.received.length === 1);
    await sink.down();
  });

  it('sends an ACCESSTOKEN sink credential as Bearer, and subscription-ended before forgetting a deleted subscription', async () => {
    const sink = new Sink(await freePort('tcp'));
    await sink.up();
    const gw = instance(`t${++n}:`);
    const s = subscription(sink.url, {
      sinkCredential: { credentialType: 'ACCESSTOKEN', accessToken: 'tok-123', accessTokenExpiresUtc: new Date(Date.now() + 3600_000).toISOString(), accessTokenType: 'bearer' },
    });
    await gw.store.create(s);
    gw.worker.start();
    await gw.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Ringing' });
    await gw.lifecycle.end((await gw.store.get(s.id))!, 'SUBSCRIPTION_DELETED');
    await until(() => sink.received.length === 2);
    expect(sink.received.map((r) => r.headers.authorization)).toEqual(['Bearer tok-123', 'Bearer tok-123']);
    expect(sink.received[1]?.body).toMatchObject({ type: WebrtcEventType.subscriptionEnded, data: { subscriptionId: s.id, terminationReason: 'SUBSCRIPTION_DELETED' } });
    await until(async () => (await gw.store.get(s.id)) === undefined);
    await sink.down();
  });

  describe('delivery guarantees on real parts', () => {
    const publish = (gw: ReturnType<typeof instance>, i: number) => gw.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: `m${i}`, status: 'Ringing' });
    const ids = (sink: Sink) => sink.received.map((r) => r.body.data.mediaSessionId);

    it('isolates subscriptions: a failing sink does not hold back another one of the same device', async () => {
      const [bad, good] = [new Sink(await freePort('tcp')), new Sink(await freePort('tcp'))];
      await Promise.all([bad.up(), good.up()]);
      bad.respond = () => 500;
      const gw = instance(`p${++n}:`);
      await gw.store.create(subscription(bad.url));
      await gw.store.create(subscription(good.url));
      gw.worker.start();
      for (let i = 1; i <= 5; i++) await publish(gw, i);
      await until(() => good.received.length === 5);
      expect(ids(good)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
      // the bad sink was tried (and is still being retried on its first event, order kept)
      expect(bad.attempts.length).toBeGreaterThan(0);
      expect(new Set(bad.attempts.map((a) => a.id)).size).toBe(1);
      await Promise.all([bad.down(), good.down()]);
    });

    it("waits for the sink's Retry-After before the next attempt (429)", async () => {
      const sink = new Sink(await freePort('tcp'));
      await sink.up();
      sink.retryAfterS = 1;
      let calls = 0;
      sink.respond = () => (++calls === 1 ? 429 : 204);
      // the computed retry would be ~20 ms; the cap (5 s) leaves room for the sink's own pace
      const gw = instance(`p${++n}:`, true, { schedule: exponentialBackoff({ maxAttempts: 5, baseMs: 20, capMs: 5000 }) });
      await gw.store.create(subscription(sink.url));
      gw.worker.start();
      await publish(gw, 1);
      await until(() => sink.received.length === 1, 5000);
      const [first, second] = sink.attempts;
      // the schedule alone would retry after ~20 ms; Retry-After: 1 holds it back a second
      expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
      await sink.down();
    });

    it('drops an event after its last attempt and goes on with the next one', async () => {
      const sink = new Sink(await freePort('tcp'));
      await sink.up();
      sink.respond = (r) => (r.body.data.mediaSessionId === 'm1' ? 503 : 204);
      const gw = instance(`p${++n}:`, true, { schedule: exponentialBackoff({ maxAttempts: 3, baseMs: 20, capMs: 50 }) });
      await gw.store.create(subscription(sink.url));
      gw.worker.start();
      await publish(gw, 1);
      await publish(gw, 2);
      await until(() => sink.received.length === 1);
      expect(sink.attempts.filter((a) => a.id === sink.attempts[0]?.id).map((a) => a.status)).toEqual([503, 503, 503]);
      expect(ids(sink)).toEqual(['m2']);
      expect(gw.metrics.dropped).toBe(1);
      await sink.down();
    });

    it('redelivers an event whose POST got no answer within the timeout', async () => {
      const sink = new Sink(await freePort('tcp'));
      await sink.up();
      let calls = 0;
      sink.respond = () => (++calls === 1 ? 'hang' : 204);
      const gw = instance(`p${++n}:`, true, {}, undefined, 300);
      await gw.store.create(subscription(sink.url));
      gw.worker.start();
      await publish(gw, 1);
      await until(() => sink.received.length === 1, 5000);
      expect(sink.attempts.map((a) => a.id)).toEqual([sink.attempts[0]?.id, sink.attempts[0]?.id]);
      expect((sink.attempts[1]?.at ?? 0) - (sink.attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(280);
      await sink.down();
    });

    it.each([
      ['its subscriptionExpireTime', 'SUBSCRIPTION_EXPIRED', (ends: number) => ({ subscriptionExpireTime: new Date(ends).toISOString(), endsAt: ends })],
      [
        "its sink token's expiry",
        'ACCESS_TOKEN_EXPIRED',
        (ends: number) => ({
          sinkCredential: { credentialType: 'ACCESSTOKEN' as const, accessToken: 'tok', accessTokenExpiresUtc: new Date(ends + 100).toISOString(), accessTokenType: 'bearer' as const },
          endsAt: ends,
        }),
      ],
    ])('ends a subscription at %s with subscription-ended (%s), then delivers nothing more to it', async (_what, reason, fields) => {
      const sink = new Sink(await freePort('tcp'));
      await sink.up();
      const gw = instance(`p${++n}:`, true, { tokenNoticeMs: 100 });
      const sub = subscription(sink.url, fields(Date.now() + 400));
      await gw.store.create(sub);
      gw.worker.start();
      await publish(gw, 1); // positive control: delivered while the subscription lives
      await until(() => sink.received.length === 1);
      await until(() => sink.received.some((r) => r.body.type === WebrtcEventType.subscriptionEnded), 5000);
      expect(sink.received.find((r) => r.body.type === WebrtcEventType.subscriptionEnded)?.body.data).toMatchObject({ subscriptionId: sub.id, terminationReason: reason });
      expect(await gw.store.findByDevice(audience.phoneNumber, audience.deviceId)).toEqual([]);
      const before = sink.attempts.length;
      // positive control: a live subscription of the same device, created now, gets the next event
      const control = new Sink(await freePort('tcp'));
      await control.up();
      await gw.store.create(subscription(control.url));
      await publish(gw, 2);
      await until(() => control.received.some((r) => r.body.data.mediaSessionId === 'm2'));
      await gw.worker.idle();
      expect(sink.attempts.length).toBe(before);
      await Promise.all([sink.down(), control.down()]);
    });
  });
});
