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
  respond: (r: Received) => number = () => 204;
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
        if (status < 300) this.received.push(r);
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
  function instance(prefix: string, allowPrivateSinks = true, over: Partial<DeliveryWorkerOptions> = {}, telemetry?: EventTelemetry) {
    const redis = new Redis(lab.url);
    clients.push(redis);
    const store = new RedisSubscriptionStore(redis, prefix);
    const queue = new RedisEventQueue(redis, prefix);
    const metrics = new EventMetrics(queue, telemetry);
    const lifecycle = new SubscriptionLifecycle(store, queue, logger);
    const transport = new UndiciSinkTransport(new SinkPolicy(allowPrivateSinks), 5000);
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
    await new Promise((r) => setTimeout(r, 400)); // connection refused meanwhile
    expect(gw.metrics.failedAttempts).toBeGreaterThan(0);
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
    expect((await a.queue.claimReadyHeads(Date.now(), 10, 300, 'crashed-instance')).map((c) => c.subscriptionId)).toEqual([s.id]);
    const b = instance(prefix);
    b.worker.start();
    await new Promise((r) => setTimeout(r, 150));
    expect(sink.received).toHaveLength(0);
    await until(() => sink.received.length === 1);
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
    await new Promise((r) => setTimeout(r, 50)); // the start-up poll
    await gw.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Connected', reason: 'warm-up' }); // scripts loaded (no NOSCRIPT retry below)
    await until(() => sink.received.length === 1);
    await gw.worker.idle();
    sink.received.length = 0;

    const base = new Redis(lab.url);
    clients.push(base); // monitor() opens its own connection; the base one is closed with the others
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
      by[cmd] = (by[cmd] ?? 0) + 1;
      roundTrips += 1;
    });
    await new Promise((r) => setTimeout(r, 50));

    const single = 20;
    for (let i = 1; i <= single; i++) {
      await gw.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Connected', reason: `s${i}` });
      await until(() => sink.received.length === i);
    }
    const burst = 20;
    for (let i = 1; i <= burst; i++) await gw.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Connected', reason: `b${i}` });
    await until(() => sink.received.length === single + burst);
    await gw.worker.idle();
    await new Promise((r) => setTimeout(r, 100)); // let MONITOR catch up
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
});
