import { randomUUID } from 'node:crypto';
import type { RootLogger } from '../common/logging/root-logger';
import { Clock } from '../common/clock';
import { ClaimedQueue, EventQueue, QueueHead } from '../store/event-queue';
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
  /** Subscriptions drained at the same time by this instance (handed-off ones included). */
  concurrency?: number;
  /**
   * A claimed subscription is this instance's for this long. Every ack that fetches the next event
   * extends it; an attempt never starts with less than half of it left (else it is renewed first).
   */
  leaseMs?: number;
  /**
   * Safety-net poll of the shared queue (other instances' leftovers, restarts, expired leases) and
   * of the expiry index, after a poll that found work. Events this instance enqueues are handed
   * off in-process and retries are timed locally, so neither waits for a poll.
   */
  pollMs?: number;
  /** The poll interval doubles after each poll that found nothing, up to this. */
  idlePollMs?: number;
  /** Events delivered per claim before the subscription is released (fairness). */
  batch?: number;
  tokenNoticeMs?: number;
  instanceId?: string;
}

/** How the publisher hands the queues it just leased (on enqueue) to this instance's worker. */
export interface DeliveryHandOff {
  /** The lease to take on enqueue; undefined while this instance is not delivering. */
  leaseFor(): { owner: string; leaseMs: number } | undefined;
  /** Delivers queues leased at `leasedAt` (epoch ms, taken before the lease was requested). */
  handOff(claimed: readonly ClaimedQueue[], leasedAt: number): void;
}

/** Hand-offs kept waiting for a free slot, per slot of `concurrency`; beyond that they go back to the shared queue. */
const PENDING_PER_SLOT = 16;

type Step = { kind: 'stop' } | { kind: 'next'; next: ClaimedQueue; leasedAt: number };
const STOP: Step = { kind: 'stop' };

/**
 * Drains the per-subscription queues to the sinks. Each subscription is drained by one instance
 * at a time, in order (a failing head blocks its own subscription only); different subscriptions
 * run concurrently up to `concurrency`. Also ends subscriptions that reach their `endsAt`.
 *
 * Work arrives three ways: handed off by the publisher of this instance (the queue was leased
 * in the enqueue script, delivery starts at once), from the `ackAndNext` of a running drain (a
 * burst is delivered back-to-back under one lease), and from the poll (`claimReadyHeads`), which is
 * only the safety net: other instances' leftovers, expired leases, restarts, and retries whose
 * time has come (this instance also sets a timer for its own retries).
 *
 * Per head:  2xx → ack (a delivered `subscription-ended` purges the subscription)
 *            410 → subscription ends NETWORK_TERMINATED, its queue is dropped
 *            retryable (network, timeout, 408/425/429/5xx) → retry after the schedule's delay,
 *                       dropped once `maxAttempts` is spent
 *            other 4xx, forbidden address → dropped
 * Every drop is counted and logged at error with event and subscription ids.
 */
export class DeliveryWorker implements DeliveryHandOff {
  readonly instanceId: string;
  private readonly source: string;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly idlePollMs: number;
  private readonly batch: number;
  private readonly tokenNoticeMs: number;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Leased (handed off) while every slot was busy; started as slots free up. */
  private readonly pending: { claimed: ClaimedQueue; leasedAt: number }[] = [];
  private readonly pendingIds = new Set<string>();
  /** Leased again (hand-off or poll) while our previous drain of the same queue was finishing. */
  private readonly followUps = new Map<string, { claimed: ClaimedQueue; leasedAt: number }>();
  private pollDelay: number;
  /** The last poll filled every free slot: there may be more ready work. */
  private saturated = false;
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
    this.pollMs = opts.pollMs ?? 250;
    this.idlePollMs = Math.max(this.pollMs, opts.idlePollMs ?? 2000);
    this.pollDelay = this.pollMs;
    this.batch = opts.batch ?? 20;
    this.tokenNoticeMs = opts.tokenNoticeMs ?? DEFAULT_TOKEN_NOTICE_MS;
    // A `subscription-ended` is enqueued without a hand-off: poll for it at once.
    lifecycle.onEnqueued(() => this.nudge());
  }

  /** Starts polling. */
  start(): void {
    if (this.running || this.closing) return;
    this.running = true;
    this.schedule(0);
  }

  /** Asks for a poll soon (something was enqueued without a hand-off). */
  nudge(): void {
    this.pollDelay = this.pollMs;
    if (this.running) this.schedule(0);
  }

  leaseFor(): { owner: string; leaseMs: number } | undefined {
    return this.running && !this.closing ? { owner: this.instanceId, leaseMs: this.leaseMs } : undefined;
  }

  handOff(claimed: readonly ClaimedQueue[], leasedAt: number): void {
    for (const c of claimed) {
      if (this.followUp(c, leasedAt)) continue;
      if (!this.running || this.closing) this.giveBack(c.subscriptionId, 0);
      else if (this.inFlight.size < this.concurrency) this.start1(c, leasedAt);
      else if (this.pending.length >= this.concurrency * PENDING_PER_SLOT) this.giveBack(c.subscriptionId, 0); // overloaded: left to the poll
      else {
        this.pending.push({ claimed: c, leasedAt });
        this.pendingIds.add(c.subscriptionId);
      }
    }
  }

  /** Stops polling and waits for in-flight deliveries; leases of unfinished work expire for others. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.running = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      for (const p of this.pending.splice(0)) this.giveBack(p.claimed.subscriptionId, 0);
      this.pendingIds.clear();
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
        .finally(() => this.schedule(this.pollDelay));
    }, delayMs);
  }

  /** One round: end due subscriptions, claim ready queues up to the free concurrency. Exposed for tests. */
  tick(): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = (async () => {
      let found = false;
      do {
        this.again = false;
        found = (await this.sweepExpired()) || found;
        found = (await this.claim()) || found;
      } while (this.again && !this.closing);
      this.pollDelay = found ? this.pollMs : Math.min(this.idlePollMs, this.pollDelay * 2);
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

  private async sweepExpired(): Promise<boolean> {
    const due = await this.store.claimDue(this.clock.now(), 100, this.leaseMs);
    for (const sub of due) {
      await this.lifecycle.end(sub, dueReason(sub, this.tokenNoticeMs));
    }
    return due.length > 0;
  }

  private async claim(): Promise<boolean> {
    const free = this.concurrency - this.inFlight.size - this.pending.length;
    if (free <= 0 || this.closing) {
      this.saturated = true;
      return false;
    }
    const leasedAt = this.clock.now();
    const claimed = await this.queue.claimReadyHeads(leasedAt, free, this.leaseMs, this.instanceId);
    this.saturated = claimed.length >= free;
    for (const c of claimed) {
      if (this.followUp(c, leasedAt)) continue;
      if (this.closing) this.giveBack(c.subscriptionId, 0);
      else this.start1(c, leasedAt);
    }
    return claimed.length > 0;
  }

  /**
   * A queue was leased to us while our drain of it is still finishing: that drain has already
   * ended its lease (ack of the last event, retry, release) but not yet returned. The new lease
   * is delivered right after it. Resolves true when `c` was taken care of this way.
   */
  private followUp(c: ClaimedQueue, leasedAt: number): boolean {
    const id = c.subscriptionId;
    if (this.pendingIds.has(id)) return true; // already waiting, under the same (re-taken) lease
    if (!this.inFlight.has(id)) return false;
    this.followUps.set(id, { claimed: c, leasedAt });
    return true;
  }

  private start1(c: ClaimedQueue, leasedAt: number): void {
    const id = c.subscriptionId;
    const p = this.drain(c, leasedAt)
      .catch(async (err: unknown) => {
        this.logger.error({ err, subscriptionId: id }, 'event delivery failed unexpectedly; retrying later');
        await this.queue.release(id, this.instanceId, this.clock.now() + 1000).catch(() => undefined);
        this.schedule(1000);
      })
      .finally(() => {
        this.inFlight.delete(id);
        const f = this.followUps.get(id);
        this.followUps.delete(id);
        if (!f) this.next();
        else if (this.closing) this.giveBack(id, 0);
        else this.start1(f.claimed, f.leasedAt);
      });
    this.inFlight.set(id, p);
  }

  /** A slot is free: start a pending hand-off, or poll again if the last poll left work behind. */
  private next(): void {
    const p = this.pending.shift();
    if (p) {
      this.pendingIds.delete(p.claimed.subscriptionId);
      if (this.closing) this.giveBack(p.claimed.subscriptionId, 0);
      else this.start1(p.claimed, p.leasedAt);
      return;
    }
    if (this.saturated) this.nudge();
  }

  private giveBack(subscriptionId: string, delayMs: number): void {
    this.queue.release(subscriptionId, this.instanceId, this.clock.now() + delayMs).catch((err: unknown) => this.logger.warn({ err, subscriptionId }, 'could not release an event queue; its lease will expire'));
  }

  private async drain(first: ClaimedQueue, leasedAt: number): Promise<void> {
    const id = first.subscriptionId;
    let cur = first;
    let since = leasedAt;
    for (let n = 1; ; n++) {
      const sub = cur.subscription;
      if (!sub) return this.dropQueue(id, 'subscription no longer exists');
      if (this.clock.now() - since > this.leaseMs / 2) {
        const at = this.clock.now();
        if (!(await this.queue.renew(id, this.instanceId, this.leaseMs))) return; // lease lost: someone else has it
        since = at;
      }
      const step = await this.attempt(sub, cur.head);
      if (step.kind === 'stop') return;
      cur = step.next;
      since = step.leasedAt;
      if (n >= this.batch || this.closing) {
        await this.queue.release(id, this.instanceId, this.clock.now());
        if (!this.closing) this.nudge();
        return;
      }
    }
  }

  /** Acks the head and fetches the next one under the same lease. */
  private async ackNext(subscriptionId: string, eventId: string): Promise<Step | undefined> {
    const at = this.clock.now();
    const r = await this.queue.ackAndNext(subscriptionId, eventId, this.instanceId, this.leaseMs);
    if (r.kind === 'lost') return undefined;
    return r.kind === 'next' ? { kind: 'next', next: r.next, leasedAt: at } : STOP;
  }

  /** One delivery attempt of the head; then what the drain does next. */
  private async attempt(sub: StoredSubscription, head: QueueHead): Promise<Step> {
    const { event } = head;
    const outcome = await this.transport.post({
      sink: sub.sink,
      body: JSON.stringify(toCloudEvent(event, this.source)),
      correlator: event.correlator ?? event.id,
      ...(sub.sinkCredential ? { bearerToken: sub.sinkCredential.accessToken } : {}),
    });
    const ending = event.type === WebrtcEventType.subscriptionEnded;
    const ids = () => ({ subscriptionId: sub.id, eventId: event.id, eventType: event.type, ...(event.correlator ? { correlator: event.correlator } : {}) });
    switch (outcome.kind) {
      case 'delivered':
        this.metrics.recordDelivered(this.clock.now() - Date.parse(event.time));
        if (this.logger.isLevelEnabled('debug')) this.logger.debug({ ...ids(), status: outcome.status }, 'event delivered');
        if (ending) {
          if (await this.queue.ack(sub.id, event.id, this.instanceId)) await this.finish(sub.id);
          return STOP;
        }
        return (await this.ackNext(sub.id, event.id)) ?? STOP;
      case 'gone':
        this.metrics.recordFailedAttempt('http_error');
        this.logger.warn(ids(), 'sink answered 410 Gone: subscription ends (NETWORK_TERMINATED); subscription-ended cannot be delivered to it');
        await this.lifecycle.end(sub, 'NETWORK_TERMINATED');
        await this.dropQueue(sub.id, 'sink answered 410 Gone');
        return STOP;
      case 'retry': {
        this.metrics.recordFailedAttempt(outcome.status !== undefined ? 'http_error' : /timeout/i.test(outcome.reason) ? 'timeout' : 'network_error');
        const attempts = head.attempts + 1;
        if (attempts >= this.opts.schedule.maxAttempts) return this.drop(sub.id, head, `${outcome.reason}; ${attempts} attempts spent`, ending);
        const delay = this.opts.schedule.delayMs(attempts, outcome.retryAfterMs);
        this.logger.warn({ ...ids(), attempts, retryInMs: delay }, `event delivery failed (${outcome.reason}); will retry`);
        if (await this.queue.retryAt(sub.id, event.id, attempts, this.clock.now() + delay, this.instanceId)) this.schedule(delay + 2);
        return STOP;
      }
      case 'reject':
        this.metrics.recordFailedAttempt(outcome.status !== undefined ? 'http_error' : 'refused');
        return this.drop(sub.id, head, outcome.reason, ending);
    }
  }

  private async drop(subscriptionId: string, head: QueueHead, reason: string, ending: boolean): Promise<Step> {
    const log = () => {
      this.metrics.recordDropped(/attempts spent/.test(reason) ? 'retries_exhausted' : 'rejected');
      this.logger.error({ subscriptionId, eventId: head.event.id, eventType: head.event.type, attempts: head.attempts + 1 }, `event dropped: ${reason}`);
    };
    if (ending) {
      if (!(await this.queue.ack(subscriptionId, head.event.id, this.instanceId))) return STOP;
      log();
      await this.finish(subscriptionId);
      return STOP;
    }
    const step = await this.ackNext(subscriptionId, head.event.id);
    if (!step) return STOP;
    log();
    return step;
  }

  /** After `subscription-ended`: nothing more goes to this sink. */
  private async finish(subscriptionId: string): Promise<void> {
    await this.dropQueue(subscriptionId, 'enqueued after subscription-ended');
  }

  private async dropQueue(subscriptionId: string, reason: string): Promise<void> {
    const ids = await this.queue.discard(subscriptionId);
    for (const eventId of ids) {
      this.metrics.recordDropped(/410/.test(reason) ? 'sink_gone' : 'subscription_deleted');
      this.logger.error({ subscriptionId, eventId }, `event dropped: ${reason}`);
    }
    await this.store.purge(subscriptionId);
  }
}
