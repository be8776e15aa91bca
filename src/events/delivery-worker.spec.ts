import pino from 'pino';
import { Clock } from '../common/clock';
import { MemoryEventQueue } from '../store/memory/memory-event-queue';
import { MemorySubscriptionStore } from '../store/memory/memory-subscription.store';
import type { StoredSubscription } from '../store/subscription-store';
import * as cloudEvent from './cloud-event';
import { DeliveryWorker, DeliveryWorkerOptions } from './delivery-worker';
import { WebrtcEventType } from './event-publisher';
import { EventMetrics } from './event-metrics';
import { QueueingEventPublisher } from './queueing-event-publisher';
import { exponentialBackoff } from './retry-schedule';
import { DeliveryOutcome, SinkRequest, SinkTransport } from './sink-client';
import { SubscriptionLifecycle } from './subscription-lifecycle';

/** A sink whose answers the test scripts per URL. */
class ScriptedSink extends SinkTransport {
  readonly received: (SinkRequest & { event: { id: string; type: string; data: Record<string, unknown> } })[] = [];
  answer: (req: SinkRequest) => DeliveryOutcome = () => ({ kind: 'delivered', status: 204 });
  async post(req: SinkRequest): Promise<DeliveryOutcome> {
    const outcome = this.answer(req);
    this.received.push({ ...req, event: JSON.parse(req.body) as { id: string; type: string; data: Record<string, unknown> } });
    return outcome;
  }
  async close(): Promise<void> {}
}

const logs: { level: number; msg: string; obj: Record<string, unknown> }[] = [];
const logger = pino(
  { level: 'debug' },
  {
    write: (line: string) => {
      const o = JSON.parse(line) as Record<string, unknown>;
      logs.push({ level: Number(o.level), msg: String(o.msg), obj: o });
    },
  },
);

const audience = { phoneNumber: '+34600000001', deviceId: '7d444840-9dc0-11d1-b245-5ffdce74fad2' };
const sub = (over: Partial<StoredSubscription> = {}): StoredSubscription => ({
  id: `s-${Math.random().toString(36).slice(2)}`,
  owner: audience.phoneNumber,
  ...audience,
  protocol: 'HTTP',
  sink: 'https://a.example.com/',
  types: [WebrtcEventType.sessionStatus],
  startsAt: new Date().toISOString(),
  state: 'ACTIVE',
  version: 0,
  ...over,
});

function setup(maxAttempts = 4, over: Partial<DeliveryWorkerOptions> = {}) {
  const clock = Clock.system; // Date.now, faked by Jest
  const store = new MemorySubscriptionStore(clock);
  const queue = new MemoryEventQueue(clock, store);
  const sink = new ScriptedSink();
  const metrics = new EventMetrics(queue);
  const lifecycle = new SubscriptionLifecycle(store, queue, logger, clock);
  const random = () => 0.5; // no jitter: 100, 200, 400 ms
  const worker = new DeliveryWorker(
    store,
    queue,
    sink,
    lifecycle,
    metrics,
    logger,
    { schedule: exponentialBackoff({ maxAttempts, baseMs: 100, random }), pollMs: 50, idlePollMs: 50, concurrency: 2, ...over },
    clock,
  );
  const publisher = new QueueingEventPublisher(store, queue, worker, clock);
  return { store, queue, sink, metrics, worker, publisher, lifecycle };
}

const status = (n: number) => ({ mediaSessionId: 'm1', status: 'Ringing', reason: `r${n}` });

describe(DeliveryWorker.name, () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
    logs.length = 0;
  });
  afterEach(() => jest.useRealTimers());

  it("delivers each subscription's events in order with sequence numbers", async () => {
    const t = setup();
    const s = sub();
    await t.store.create(s);
    for (let i = 1; i <= 3; i++) await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(i));
    t.worker.start();
    await jest.advanceTimersByTimeAsync(10);
    expect(t.sink.received.map((r) => [r.event.data.reason, r.event.data.sequenceNumber, r.event.data.subscriptionId])).toEqual([
      ['r1', 1, s.id],
      ['r2', 2, s.id],
      ['r3', 3, s.id],
    ]);
    expect(t.metrics.delivered).toBe(3);
    expect(await t.metrics.backlog()).toBe(0);
    await t.worker.close();
  });

  it('delivers what this instance enqueues at once (hand-off), a burst back-to-back under one lease, without polling', async () => {
    const t = setup(4, { pollMs: 3_600_000, idlePollMs: 3_600_000 });
    const s = sub();
    await t.store.create(s);
    t.worker.start();
    await jest.advanceTimersByTimeAsync(1); // the start-up poll
    const claims = jest.spyOn(t.queue, 'claimReadyHeads');
    const acks = jest.spyOn(t.queue, 'ackAndNext');
    const renewals = jest.spyOn(t.queue, 'renew');
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(1));
    await jest.advanceTimersByTimeAsync(0);
    expect(t.sink.received.map((r) => r.event.data.reason)).toEqual(['r1']);
    for (let i = 2; i <= 4; i++) await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(i));
    for (let i = 0; i < 10; i++) await jest.advanceTimersByTimeAsync(0); // microtasks only: no timer is due
    expect(t.sink.received.map((r) => r.event.data.reason)).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(claims).not.toHaveBeenCalled();
    expect(renewals).not.toHaveBeenCalled();
    expect(acks).toHaveBeenCalledTimes(4);
    expect(await t.metrics.backlog()).toBe(0);
    await t.worker.close();
  });

  it('times its own retries instead of waiting for a poll', async () => {
    const t = setup(4, { pollMs: 3_600_000, idlePollMs: 3_600_000 });
    await t.store.create(sub());
    let failures = 1;
    t.sink.answer = () => (failures-- > 0 ? { kind: 'retry', failure: 'http_error', reason: '503', status: 503 } : { kind: 'delivered', status: 204 });
    t.worker.start();
    await jest.advanceTimersByTimeAsync(1);
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(1));
    await jest.advanceTimersByTimeAsync(90);
    expect(t.sink.received).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(20); // backoff 100 ms
    expect(t.sink.received).toHaveLength(2);
    expect(t.metrics).toMatchObject({ delivered: 1, failedAttempts: 1 });
    await t.worker.close();
  });

  it('serialises an event once: its retries send the body built for the first attempt', async () => {
    const t = setup(4, { pollMs: 3_600_000, idlePollMs: 3_600_000 });
    await t.store.create(sub());
    let failures = 2;
    t.sink.answer = () => (failures-- > 0 ? { kind: 'retry', failure: 'timeout', reason: 'headers timeout' } : { kind: 'delivered', status: 204 });
    const built = jest.spyOn(cloudEvent, 'toCloudEvent');
    t.worker.start();
    await jest.advanceTimersByTimeAsync(1);
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(1));
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(2));
    await jest.advanceTimersByTimeAsync(1000);
    expect(t.sink.received.map((r) => r.event.data.reason)).toEqual(['r1', 'r1', 'r1', 'r2']);
    expect(new Set(t.sink.received.slice(0, 3).map((r) => r.body)).size).toBe(1);
    // positive control: every distinct event is built, each once
    expect(built.mock.calls.map(([e]) => e.data.reason)).toEqual(['r1', 'r2']);
    built.mockRestore();
    await t.worker.close();
  });

  it('renews a lease that is half spent before the next attempt', async () => {
    const t = setup(4, { leaseMs: 1000, concurrency: 1 });
    await t.store.create(sub({ sink: 'https://slow.example.com/' }));
    await t.store.create(sub({ phoneNumber: '+34600000009', owner: '+34600000009', sink: 'https://next.example.com/' }));
    t.sink.post = async (req) => {
      if (req.sink.includes('slow')) await new Promise((r) => setTimeout(r, 700));
      t.sink.received.push({ ...req, event: JSON.parse(req.body) as { id: string; type: string; data: Record<string, unknown> } });
      return { kind: 'delivered', status: 204 };
    };
    t.worker.start();
    await jest.advanceTimersByTimeAsync(1);
    const renewals = jest.spyOn(t.queue, 'renew');
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(1)); // takes the only slot for 700 ms
    await t.publisher.publish({ phoneNumber: '+34600000009', deviceId: audience.deviceId }, WebrtcEventType.sessionStatus, status(2)); // waits, leased
    await jest.advanceTimersByTimeAsync(800);
    expect(t.sink.received.map((r) => r.sink)).toEqual(['https://slow.example.com/', 'https://next.example.com/']);
    expect(renewals).toHaveBeenCalledTimes(1);
    await t.worker.close();
  });

  it('retries with backoff and keeps order: N+1 waits for N', async () => {
    const t = setup();
    await t.store.create(sub());
    let failures = 2;
    t.sink.answer = () => (failures-- > 0 ? { kind: 'retry', failure: 'http_error', reason: '503', status: 503 } : { kind: 'delivered', status: 204 });
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(1));
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(2));
    t.worker.start();
    await jest.advanceTimersByTimeAsync(10);
    expect(t.sink.received.map((r) => r.event.data.reason)).toEqual(['r1']);
    await jest.advanceTimersByTimeAsync(100); // first backoff: 100 ms
    expect(t.sink.received.map((r) => r.event.data.reason)).toEqual(['r1', 'r1']);
    await jest.advanceTimersByTimeAsync(150); // not yet (200 ms)
    expect(t.sink.received).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(100);
    expect(t.sink.received.map((r) => r.event.data.reason)).toEqual(['r1', 'r1', 'r1', 'r2']);
    expect(t.metrics).toMatchObject({ delivered: 2, failedAttempts: 2, dropped: 0 });
    await t.worker.close();
  });

  it('honours Retry-After', async () => {
    const t = setup();
    await t.store.create(sub());
    let first = true;
    t.sink.answer = () => (first ? ((first = false), { kind: 'retry', failure: 'http_error', reason: '429', status: 429, retryAfterMs: 5000 }) : { kind: 'delivered', status: 204 });
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(1));
    t.worker.start();
    await jest.advanceTimersByTimeAsync(4900);
    expect(t.sink.received).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(200);
    expect(t.sink.received).toHaveLength(2);
    await t.worker.close();
  });

  it('drops an event after maxAttempts, counts and logs it at error, and moves on', async () => {
    const t = setup(3);
    await t.store.create(sub());
    t.sink.answer = (req) =>
      (JSON.parse(req.body) as { data: { reason: string } }).data.reason === 'r1' ? { kind: 'retry', failure: 'network_error', reason: 'ECONNREFUSED' } : { kind: 'delivered', status: 204 };
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(1));
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(2));
    t.worker.start();
    await jest.advanceTimersByTimeAsync(1000);
    expect(t.sink.received.map((r) => r.event.data.reason)).toEqual(['r1', 'r1', 'r1', 'r2']);
    expect(t.metrics).toMatchObject({ delivered: 1, failedAttempts: 3, dropped: 1 });
    const dropped = logs.find((l) => l.level === 50 && l.msg.startsWith('event dropped'));
    expect(dropped?.obj).toMatchObject({ eventId: t.sink.received[0]?.event.id, attempts: 3 });
    expect(dropped?.obj.subscriptionId).toBeDefined();
    await t.worker.close();
  });

  it('a failing sink blocks only its own subscription', async () => {
    const t = setup();
    await t.store.create(sub({ sink: 'https://down.example.com/' }));
    await t.store.create(sub({ sink: 'https://up.example.com/' }));
    t.sink.answer = (req) => (req.sink.includes('down') ? { kind: 'retry', failure: 'timeout', reason: 'timeout' } : { kind: 'delivered', status: 204 });
    for (let i = 1; i <= 3; i++) await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(i));
    t.worker.start();
    await jest.advanceTimersByTimeAsync(10);
    expect(t.sink.received.filter((r) => r.sink.includes('up')).map((r) => r.event.data.reason)).toEqual(['r1', 'r2', 'r3']);
    expect(t.sink.received.filter((r) => r.sink.includes('down')).map((r) => r.event.data.reason)).toEqual(['r1']);
    await t.worker.close();
  });

  it('drops at once what the sink rejects permanently (4xx)', async () => {
    const t = setup();
    await t.store.create(sub());
    t.sink.answer = () => ({ kind: 'reject', failure: 'http_error', reason: 'sink answered 400', status: 400 });
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(1));
    t.worker.start();
    await jest.advanceTimersByTimeAsync(10);
    expect(t.metrics).toMatchObject({ dropped: 1, failedAttempts: 1 });
    await t.worker.close();
  });

  it('410 ends the subscription (NETWORK_TERMINATED) and drops its queue', async () => {
    const t = setup();
    const s = sub();
    await t.store.create(s);
    t.sink.answer = () => ({ kind: 'gone' });
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(1));
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(2));
    t.worker.start();
    await jest.advanceTimersByTimeAsync(10);
    expect(t.sink.received).toHaveLength(1);
    expect(await t.store.get(s.id)).toBeUndefined();
    expect(await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(3))).toBe(0);
    expect(t.metrics.dropped).toBe(2);
    await t.worker.close();
  });

  it('ends an expired subscription with subscription-ended delivered after the pending events, then forgets it', async () => {
    const t = setup();
    const s = sub({ subscriptionExpireTime: new Date(Date.now() + 1000).toISOString(), endsAt: Date.now() + 1000 });
    await t.store.create(s);
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(1));
    t.worker.start();
    await jest.advanceTimersByTimeAsync(1100);
    expect(t.sink.received.map((r) => r.event.type)).toEqual([WebrtcEventType.sessionStatus, WebrtcEventType.subscriptionEnded]);
    expect(t.sink.received[1]?.event.data).toMatchObject({ subscriptionId: s.id, terminationReason: 'SUBSCRIPTION_EXPIRED' });
    expect(await t.store.get(s.id)).toBeUndefined();
    await t.worker.close();
  });

  it('ends a subscription whose access token is about to expire (ACCESS_TOKEN_EXPIRED), sending it with the token', async () => {
    const t = setup();
    const expires = new Date(Date.now() + 120_000).toISOString();
    const s = sub({ sinkCredential: { credentialType: 'ACCESSTOKEN', accessToken: 'tok', accessTokenExpiresUtc: expires, accessTokenType: 'bearer' }, endsAt: Date.now() + 60_000 });
    await t.store.create(s);
    t.worker.start();
    await jest.advanceTimersByTimeAsync(60_100);
    expect(t.sink.received.map((r) => [r.event.type, r.event.data.terminationReason, r.bearerToken])).toEqual([[WebrtcEventType.subscriptionEnded, 'ACCESS_TOKEN_EXPIRED', 'tok']]);
    await t.worker.close();
  });

  it('drains at most `concurrency` subscriptions at once', async () => {
    const t = setup();
    for (let i = 0; i < 5; i++) await t.store.create(sub({ sink: `https://s${i}.example.com/` }));
    let inFlight = 0;
    let peak = 0;
    t.sink.post = async (req) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 100));
      inFlight--;
      t.sink.received.push({ ...req, event: JSON.parse(req.body) as { id: string; type: string; data: Record<string, unknown> } });
      return { kind: 'delivered', status: 204 };
    };
    await t.publisher.publish(audience, WebrtcEventType.sessionStatus, status(1));
    t.worker.start();
    await jest.advanceTimersByTimeAsync(1000);
    expect(t.sink.received).toHaveLength(5);
    expect(peak).toBe(2);
    await t.worker.close();
  });
});
