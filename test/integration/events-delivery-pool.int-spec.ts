import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import pino from 'pino';
import { freePort, startRedis, type RedisInstance } from '../support/lab';
import { loadConfig } from '../../src/config/app-config';
import { deliveryWorkerOptions, sinkTransportFor } from '../../src/events/delivery-settings';
import { DeliveryWorker } from '../../src/events/delivery-worker';
import { WebrtcEventType } from '../../src/events/event-publisher';
import { EventMetrics } from '../../src/events/event-metrics';
import { QueueingEventPublisher } from '../../src/events/queueing-event-publisher';
import { exponentialBackoff } from '../../src/events/retry-schedule';
import { SinkPolicy } from '../../src/events/sink-address';
import { UndiciSinkTransport } from '../../src/events/sink-client';
import { SubscriptionLifecycle } from '../../src/events/subscription-lifecycle';
import { RedisEventQueue } from '../../src/store/redis/redis-event-queue';
import { RedisSubscriptionStore } from '../../src/store/redis/redis-subscription.store';
import type { StoredSubscription } from '../../src/store/subscription-store';

/** Longest a request waits for the sink's gate (`gateAt`) before it is answered anyway. */
const GATE_MAX_MS = 2000;
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/**
 * A real webhook sink that counts the TCP connections it accepts and knows which are still open,
 * and the requests it holds at once (`inFlight`, highest so far `peak`).
 */
class CountingSink {
  readonly received: string[] = [];
  /** Request ids in arrival order, answered or not. */
  readonly attempts: string[] = [];
  connections = 0;
  readonly open = new Set<Socket>();
  respond: (id: string) => number | 'hang' = () => 204;
  /** A slow backend: each request is answered no sooner than this after it arrived. */
  holdMs = 0;
  /**
   * Requests are also held until this many are in flight at once (each at most GATE_MAX_MS), so a
   * peak the gateway allows is reached however the CPU schedules the POSTs; 0: no gate.
   */
  gateAt = 0;
  inFlight = 0;
  peak = 0;
  private openGate: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.openGate = resolve));
  private server: Server | undefined;
  constructor(readonly port: number) {}
  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }
  async up(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const arrived = Date.now();
      this.inFlight++;
      this.peak = Math.max(this.peak, this.inFlight);
      res.on('close', () => this.inFlight--);
      if (this.gateAt > 0 && this.inFlight >= this.gateAt) this.openGate();
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const { id } = JSON.parse(raw) as { id: string };
        this.attempts.push(id);
        const answer = (): void => {
          const status = this.respond(id);
          if (status === 'hang') return; // never answered: the client's timeout decides
          if (status < 300) this.received.push(id);
          res.statusCode = status;
          res.end();
        };
        if (this.holdMs === 0 && this.gateAt === 0) answer();
        else void this.held(arrived).then(answer);
      });
    });
    this.server.on('connection', (socket: Socket) => {
      this.connections++;
      this.open.add(socket);
      socket.on('close', () => this.open.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', () => resolve()));
  }
  private async held(arrived: number): Promise<void> {
    if (this.gateAt > 0) await Promise.race([this.gate, pause(GATE_MAX_MS)]);
    const left = arrived + this.holdMs - Date.now();
    if (left > 0) await pause(left);
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
const audience = { phoneNumber: '+34600000002', deviceId: '7d444840-9dc0-11d1-b245-5ffdce74fad3' };

describe('webhook delivery through per-origin pools (real HTTP sink, real Redis)', () => {
  let redis: RedisInstance;
  const closers: Array<() => Promise<void>> = [];
  let n = 0;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
  });
  afterAll(async () => {
    await redis.stop();
  });

  function stores() {
    const prefix = `pool${++n}:`;
    const client = redis.client();
    const store = new RedisSubscriptionStore(client, prefix);
    const queue = new RedisEventQueue(client, prefix);
    return { store, queue, metrics: new EventMetrics(queue), lifecycle: new SubscriptionLifecycle(store, queue, logger) };
  }

  /** Transport and worker built from the operator's settings, as EventsModule builds them. */
  function configured(env: Record<string, string>) {
    const { events } = loadConfig({ EVENTS_ALLOW_PRIVATE_SINKS: 'true', ...env });
    const { store, queue, metrics, lifecycle } = stores();
    const transport = sinkTransportFor(events, new SinkPolicy(events.allowPrivateSinks));
    const worker = new DeliveryWorker(store, queue, transport, lifecycle, metrics, logger, { ...deliveryWorkerOptions(events), pollMs: 20, leaseMs: 5000 });
    const publisher = new QueueingEventPublisher(store, queue, worker);
    closers.push(() => worker.close());
    return { store, metrics, worker, publisher, transport };
  }

  function instance(opts: { timeoutMs?: number; connectionsPerOrigin?: number; idleMs?: number; now?: () => number } = {}) {
    const { store, queue, metrics, lifecycle } = stores();
    const transport = new UndiciSinkTransport(new SinkPolicy(true), opts.timeoutMs ?? 5000, opts.now ?? Date.now, {
      connectionsPerOrigin: opts.connectionsPerOrigin ?? 2,
      ...(opts.idleMs !== undefined ? { idleMs: opts.idleMs } : {}),
    });
    const worker = new DeliveryWorker(store, queue, transport, lifecycle, metrics, logger, {
      schedule: exponentialBackoff({ maxAttempts: 10, baseMs: 20, capMs: 200 }),
      pollMs: 20,
      leaseMs: 2000,
    });
    const publisher = new QueueingEventPublisher(store, queue, worker);
    closers.push(() => worker.close());
    return { store, metrics, worker, publisher, transport };
  }

  const subscription = (sink: string): StoredSubscription => ({
    id: `sub-${++n}`,
    owner: audience.phoneNumber,
    ...audience,
    protocol: 'HTTP',
    sink,
    types: [WebrtcEventType.sessionStatus],
    startsAt: new Date().toISOString(),
    state: 'ACTIVE',
    version: 0,
  });

  async function sinkUp(): Promise<CountingSink> {
    const sink = new CountingSink(await freePort('tcp'));
    await sink.up();
    closers.push(() => sink.down());
    return sink;
  }

  async function until(cond: () => boolean, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  const publish = async (gw: Pick<ReturnType<typeof instance>, 'publisher'>, count: number): Promise<void> => {
    for (let i = 0; i < count; i++) await gw.publisher.publish(audience, WebrtcEventType.sessionStatus, { mediaSessionId: 'm1', status: 'Ringing', reason: `r${i}` });
  };

  it('reuses kept-alive connections: 60 events to 3 subscriptions of one sink open at most 2 connections, through one pool', async () => {
    const sink = await sinkUp();
    const gw = instance({ connectionsPerOrigin: 2 });
    for (let i = 0; i < 3; i++) await gw.store.create(subscription(sink.url));
    gw.worker.start();
    await publish(gw, 20);
    await until(() => gw.metrics.delivered === 60);
    expect(sink.received).toHaveLength(60);
    expect(sink.connections).toBeGreaterThanOrEqual(1);
    expect(sink.connections).toBeLessThanOrEqual(2);
    expect(gw.transport.openPools).toBe(1);
  });

  // One app, every subscription on one backend that takes 200 ms per POST: the POSTs in flight at
  // that origin reach min(EVENTS_SINK_CONNECTIONS, EVENTS_DELIVERY_CONCURRENCY) and never exceed the
  // connections; every event still arrives.
  it.each<{ env: Record<string, string>; subscriptions: number; events: number; peak: number; what: string }>([
    { env: {}, subscriptions: 80, events: 1, peak: 64, what: 'defaults: 64 connections, 64 deliveries' },
    { env: { EVENTS_SINK_CONNECTIONS: '2', EVENTS_DELIVERY_CONCURRENCY: '16' }, subscriptions: 10, events: 2, peak: 2, what: 'EVENTS_SINK_CONNECTIONS=2 caps the origin below the concurrency' },
    { env: { EVENTS_SINK_CONNECTIONS: '32', EVENTS_DELIVERY_CONCURRENCY: '8' }, subscriptions: 16, events: 1, peak: 8, what: 'EVENTS_DELIVERY_CONCURRENCY=8 caps it below the connections' },
  ])('$what: $subscriptions subscriptions on one slow sink see $peak POSTs at once, no more', async ({ env, subscriptions, events, peak }) => {
    const sink = await sinkUp();
    sink.holdMs = 200;
    sink.gateAt = peak;
    const gw = configured(env);
    for (let i = 0; i < subscriptions; i++) await gw.store.create(subscription(sink.url));
    gw.worker.start();
    await publish(gw, events);
    await until(() => gw.metrics.delivered === subscriptions * events, 30_000);
    expect(sink.peak).toBe(peak);
    expect(sink.received).toHaveLength(subscriptions * events);
    expect(new Set(sink.received).size).toBe(subscriptions * events);
    expect(sink.connections).toBeLessThanOrEqual(Number(env.EVENTS_SINK_CONNECTIONS ?? 64));
    expect(gw.transport.openPools).toBe(1);
  });

  it('closes a pool once idle, and opens a new one for the next event', async () => {
    const sink = await sinkUp();
    let idleFor = 0;
    const gw = instance({ idleMs: 60_000, now: () => Date.now() + idleFor });
    await gw.store.create(subscription(sink.url));
    gw.worker.start();
    await publish(gw, 1);
    await until(() => sink.received.length === 1);
    // positive control: the connection is kept open while the pool is in use
    expect(sink.open.size).toBe(1);
    expect(gw.transport.closeIdlePools()).toBe(0);
    idleFor = 60_000; // the pools' clock moves past the idle period
    expect(gw.transport.closeIdlePools()).toBe(1);
    expect(gw.transport.openPools).toBe(0);
    await until(() => sink.open.size === 0);
    await publish(gw, 1);
    await until(() => sink.received.length === 2);
    expect(gw.transport.openPools).toBe(1);
    expect(sink.connections).toBe(2);
  });

  it('a sink that does not answer within the timeout: the attempt is a timeout, the event is retried and delivered', async () => {
    const sink = await sinkUp();
    let calls = 0;
    sink.respond = () => (++calls === 1 ? 'hang' : 204);
    const gw = instance({ timeoutMs: 300 });
    const direct = await gw.transport.post({ sink: sink.url, body: JSON.stringify({ id: 'probe' }), correlator: 'c1' });
    expect(direct).toMatchObject({ kind: 'retry', failure: 'timeout' });
    expect(await gw.transport.post({ sink: sink.url, body: JSON.stringify({ id: 'probe2' }), correlator: 'c2' })).toEqual({ kind: 'delivered', status: 204 });

    calls = 0;
    await gw.store.create(subscription(sink.url));
    gw.worker.start();
    await publish(gw, 1);
    await until(() => gw.metrics.delivered === 1, 5000);
    expect(sink.received).toHaveLength(2);
    const eventId = sink.received[1];
    expect(sink.attempts.filter((id) => id === eventId)).toHaveLength(2);
    expect(gw.metrics).toMatchObject({ delivered: 1, failedAttempts: 1 });
  });

  it('takes the outcome from the status: a sink trickling its body, or sending 103 first, does not hold the delivery', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/early') res.writeEarlyHints({ link: '</x>; rel=preload' });
        res.writeHead(req.url === '/early' ? 204 : 200, { 'content-length': '1000' });
        if (req.url === '/early') return void res.end();
        const drip = setInterval(() => res.write('x'), 100); // never completes within the test
        res.on('close', () => clearInterval(drip));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const { port } = server.address() as { port: number };
    const gw = instance({ timeoutMs: 5000 });
    const started = Date.now();
    expect(await gw.transport.post({ sink: `http://127.0.0.1:${port}/drip`, body: '{}', correlator: 'c' })).toEqual({ kind: 'delivered', status: 200 });
    expect(Date.now() - started).toBeLessThan(2000); // well inside the 5 s timeout: not waiting for the body
    expect(await gw.transport.post({ sink: `http://127.0.0.1:${port}/early`, body: '{}', correlator: 'c' })).toEqual({ kind: 'delivered', status: 204 });
  });
});
