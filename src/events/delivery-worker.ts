import { randomUUID } from 'node:crypto';
import type { RootLogger } from '../common/logging/root-logger';
import { Clock } from '../store/clock';
import { EventQueue, QueueHead } from '../store/event-queue';
import { StoredSubscription, SubscriptionStore } from '../store/subscription-store';
import { DEFAULT_EVENT_SOURCE, toCloudEvent } from './cloud-event';
import { WebrtcEventType } from './event-publisher';
import { EventMetrics } from './event-metrics';
import { RetrySchedule } from './retry-schedule';
import { SinkTransport } from './sink-client';
import { dueReason, DEFAULT_TOKEN_NOTICE_MS, SubscriptionLifecycle } from './subscription-lifecycle';

export interface DeliveryWorkerOptions {
  schedule: RetrySchedule;
  /** CloudEvent `source`. */
  source?: string;
  /** Subscriptions drained at the same time by this instance. */
  concurrency?: number;
  /** A claimed subscription is this instance's for this long (renewed before each attempt). */
  leaseMs?: number;
  /** How often the queue and the expiry index are polled. */
  pollMs?: number;
  /** Events delivered per claim before the subscription is released (fairness). */
  batch?: number;
  tokenNoticeMs?: number;
  instanceId?: string;
}

/**
 * Drains the per-subscription queues to the sinks. Each subscription is drained by one instance
 * at a time, in order (a failing head blocks its own subscription only); different subscriptions
 * run concurrently up to `concurrency`. Also ends subscriptions that reach their `endsAt`.
 *
 * Per head:  2xx → ack (a delivered `subscription-ended` purges the subscription)
 *            410 → subscription ends NETWORK_TERMINATED, its queue is dropped
 *            retryable (network, timeout, 408/425/429/5xx) → retry after the schedule's delay,
 *                       dropped once `maxAttempts` is spent
 *            other 4xx, forbidden address → dropped
 * Every drop is counted and logged at error with event and subscription ids.
 */
export class DeliveryWorker {
  readonly instanceId: string;
  private readonly source: string;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly tokenNoticeMs: number;
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private ticking: Promise<void> | undefined;
  private again = false;
  private running = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly store: SubscriptionStore,
    private readonly queue: EventQueue,
    private readonly transport: SinkTransport,
    private readonly lifecycle: SubscriptionLifecycle,
    readonly metrics: EventMetrics,
    private readonly logger: RootLogger,
    private readonly opts: DeliveryWorkerOptions,
    private readonly clock: Clock = Clock.system,
  ) {
    this.instanceId = opts.instanceId ?? randomUUID();
    this.source = opts.source ?? DEFAULT_EVENT_SOURCE;
    this.concurrency = opts.concurrency ?? 64;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.pollMs = opts.pollMs ?? 500;
    this.batch = opts.batch ?? 20;
    this.tokenNoticeMs = opts.tokenNoticeMs ?? DEFAULT_TOKEN_NOTICE_MS;
  }

  /** Starts polling. */
  start(): void {
    if (this.running || this.closing) return;
    this.running = true;
    this.schedule(0);
  }

  /** Asks for a tick soon (something was just enqueued). */
  nudge(): void {
    if (this.running) this.schedule(0);
  }

  /** Stops polling and waits for in-flight deliveries; leases of unfinished work expire for others. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.running = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      await this.ticking;
      await Promise.allSettled([...this.inFlight.values()]);
      await this.transport.close();
    })();
    return this.closing;
  }

  /** Number of subscriptions being drained right now. */
  get active(): number {
    return this.inFlight.size;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    const due = Date.now() + delayMs;
    if (this.timer) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick()
        .catch((err: unknown) => this.logger.warn({ err }, 'event delivery tick failed'))
        .finally(() => this.schedule(this.pollMs));
    }, delayMs);
  }

  /** One round: end due subscriptions, claim ready queues up to the free concurrency. Exposed for tests. */
  tick(): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = (async () => {
      do {
        this.again = false;
        await this.sweepExpired();
        await this.claim();
      } while (this.again && !this.closing);
    })().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  /** Resolves when every drain started so far has finished (tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || this.ticking) {
      await this.ticking;
      await Promise.allSettled([...this.inFlight.values()]);
    }
  }

  private async sweepExpired(): Promise<void> {
    const due = await this.store.claimDue(this.clock.now(), 100, this.leaseMs);
    for (const sub of due) {
      await this.lifecycle.end(sub, dueReason(sub, this.tokenNoticeMs));
    }
  }

  private async claim(): Promise<void> {
    const free = this.concurrency - this.inFlight.size;
    if (free <= 0 || this.closing) return;
    const ids = await this.queue.claimReady(this.clock.now(), free, this.leaseMs, this.instanceId);
    for (const id of ids) {
      const p = this.drain(id)
        .catch(async (err: unknown) => {
          this.logger.error({ err, subscriptionId: id }, 'event delivery failed unexpectedly; retrying later');
          await this.queue.release(id, this.instanceId, this.clock.now() + 1000).catch(() => undefined);
        })
        .finally(() => {
          this.inFlight.delete(id);
          this.nudge();
        });
      this.inFlight.set(id, p);
    }
  }

  private async drain(subscriptionId: string): Promise<void> {
    for (let n = 0; n < this.batch; n++) {
      const head = await this.queue.head(subscriptionId);
      if (!head) return this.queue.release(subscriptionId, this.instanceId, this.clock.now());
      const sub = await this.store.get(subscriptionId);
      if (!sub) return this.dropQueue(subscriptionId, 'subscription no longer exists');
      if (!(await this.queue.renew(subscriptionId, this.instanceId, this.leaseMs))) return; // lease lost: someone else has it
      const done = await this.attempt(sub, head);
      if (done) return;
    }
    await this.queue.release(subscriptionId, this.instanceId, this.clock.now());
  }

  /** One delivery attempt of the head. Resolves true when this drain must stop. */
  private async attempt(sub: StoredSubscription, head: QueueHead): Promise<boolean> {
    const { event } = head;
    const log = this.logger.child({ subscriptionId: sub.id, eventId: event.id, eventType: event.type, ...(event.correlator ? { correlator: event.correlator } : {}) });
    const outcome = await this.transport.post({
      sink: sub.sink,
      body: JSON.stringify(toCloudEvent(event, this.source)),
      correlator: event.correlator ?? event.id,
      ...(sub.sinkCredential ? { bearerToken: sub.sinkCredential.accessToken } : {}),
    });
    const ending = event.type === WebrtcEventType.subscriptionEnded;
    switch (outcome.kind) {
      case 'delivered':
        this.metrics.delivered += 1;
        log.debug({ status: outcome.status }, 'event delivered');
        if (!(await this.queue.ack(sub.id, event.id, this.instanceId))) return true;
        if (ending) {
          await this.finish(sub.id);
          return true;
        }
        return false;
      case 'gone':
        this.metrics.failedAttempts += 1;
        log.warn('sink answered 410 Gone: subscription ends (NETWORK_TERMINATED); subscription-ended cannot be delivered to it');
        await this.lifecycle.end(sub, 'NETWORK_TERMINATED');
        await this.dropQueue(sub.id, 'sink answered 410 Gone');
        return true;
      case 'retry': {
        this.metrics.failedAttempts += 1;
        const attempts = head.attempts + 1;
        if (attempts >= this.opts.schedule.maxAttempts) return this.drop(sub.id, head, `${outcome.reason}; ${attempts} attempts spent`, ending);
        const delay = this.opts.schedule.delayMs(attempts, outcome.retryAfterMs);
        log.warn({ attempts, retryInMs: delay }, `event delivery failed (${outcome.reason}); will retry`);
        await this.queue.retryAt(sub.id, event.id, attempts, this.clock.now() + delay, this.instanceId);
        return true;
      }
      case 'reject':
        this.metrics.failedAttempts += 1;
        return this.drop(sub.id, head, outcome.reason, ending);
    }
  }

  private async drop(subscriptionId: string, head: QueueHead, reason: string, ending: boolean): Promise<boolean> {
    if (!(await this.queue.ack(subscriptionId, head.event.id, this.instanceId))) return true;
    this.metrics.dropped += 1;
    this.logger.error({ subscriptionId, eventId: head.event.id, eventType: head.event.type, attempts: head.attempts + 1 }, `event dropped: ${reason}`);
    if (ending) {
      await this.finish(subscriptionId);
      return true;
    }
    return false;
  }

  /** After `subscription-ended`: nothing more goes to this sink. */
  private async finish(subscriptionId: string): Promise<void> {
    await this.dropQueue(subscriptionId, 'enqueued after subscription-ended');
  }

  private async dropQueue(subscriptionId: string, reason: string): Promise<void> {
    const ids = await this.queue.discard(subscriptionId);
    for (const eventId of ids) {
      this.metrics.dropped += 1;
      this.logger.error({ subscriptionId, eventId }, `event dropped: ${reason}`);
    }
    await this.store.purge(subscriptionId);
  }
}
