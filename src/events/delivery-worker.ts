import { randomUUID } from 'node:crypto';
import type { RootLogger } from '../common/logging/root-logger';
import { Clock } from '../common/clock';
import { ClaimedQueue, EventQueue, QueueHead } from '../store/event-queue';
import { StoredSubscription, SubscriptionStore } from '../store/subscription-store';
import { DEFAULT_EVENT_SOURCE, toCloudEvent } from './cloud-event';
import { decideDelivery, DeliveryDecision, DROP_DESCRIPTIONS } from './delivery-policy';
import { DeliverySlots, Lease } from './delivery-slots';
import { WebrtcEventType } from './event-publisher';
import { DropReason, EventMetrics } from './event-metrics';
import { RetrySchedule } from './retry-schedule';
import { SinkTransport } from './sink-client';
import { dueReason, DEFAULT_TOKEN_NOTICE_MS, SubscriptionLifecycle } from './subscription-lifecycle';

export interface DeliveryWorkerOptions {
  schedule: RetrySchedule;
  /** CloudEvent `source`. */
  source?: string;
  /** Subscriptions drained at the same time by this instance (handed-off ones included); `EVENTS_DELIVERY_CONCURRENCY`. */
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

type Step = { kind: 'stop' } | { kind: 'next'; lease: Lease };

/** Subscriptions drained at the same time when `concurrency` is not given (the `EVENTS_DELIVERY_CONCURRENCY` default). */
export const DEFAULT_DELIVERY_CONCURRENCY = 64;
/** Bodies of events waiting for a retry kept serialised (oldest forgotten first beyond this). */
const KEPT_BODIES = 1024;
const STOP: Step = { kind: 'stop' };

/**
 * Drains the per-subscription queues to the sinks. Each subscription is drained by one instance
 * at a time, in order (a failing head blocks its own subscription only); different subscriptions
 * run concurrently up to `concurrency` (`DeliverySlots`). Also ends subscriptions that reach their
 * `endsAt`.
 *
 * Work arrives three ways: handed off by the publisher of this instance (the queue was leased
 * in the enqueue script, delivery starts at once), from the `ackAndNext` of a running drain (a
 * burst is delivered back-to-back under one lease), and from the poll (`claimReadyHeads`), which is
 * only the safety net: other instances' leftovers, expired leases, restarts, and retries whose
 * time has come (this instance also sets a timer for its own retries).
 *
 * What follows each attempt is decided by `decideDelivery` (delivery-policy.ts); this class only
 * claims, sends and applies the decision. Every drop is counted and logged at error with event and
 * subscription ids.
 */
export class DeliveryWorker implements DeliveryHandOff {
  readonly instanceId: string;
  private readonly source: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly idlePollMs: number;
  private readonly batch: number;
  private readonly tokenNoticeMs: number;
  private readonly slots: DeliverySlots;
  private pollDelay: number;
  /** The last poll filled every free slot: there may be more ready work. */
  private saturated = false;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private ticking: Promise<void> | undefined;
  private again = false;
  private running = false;
  private closing: Promise<void> | undefined;
  /** Serialised CloudEvent per event id, kept while the event waits for a retry here. */
  private readonly bodies = new Map<string, string>();

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
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.pollMs = opts.pollMs ?? 250;
    this.idlePollMs = Math.max(this.pollMs, opts.idlePollMs ?? 2000);
    this.pollDelay = this.pollMs;
    this.batch = opts.batch ?? 20;
    this.tokenNoticeMs = opts.tokenNoticeMs ?? DEFAULT_TOKEN_NOTICE_MS;
    this.slots = new DeliverySlots(
      opts.concurrency ?? DEFAULT_DELIVERY_CONCURRENCY,
      (lease) => this.drainOrRelease(lease),
      (id) => this.giveBack(id, 0),
      () => {
        if (this.saturated) this.nudge(); // the last poll left work behind
      },
      logger,
    );
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
      if (!this.running || this.closing) this.giveBack(c.subscriptionId, 0);
      else this.slots.offer({ claimed: c, leasedAt });
    }
  }

  /** Stops polling and waits for in-flight deliveries; leases of unfinished work expire for others. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.running = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.slots.close();
      await this.ticking;
      await this.slots.settled();
      await this.transport.close();
    })();
    return this.closing;
  }

  /** Number of subscriptions being drained right now. */
  get active(): number {
    return this.slots.active;
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
    while (this.slots.active > 0 || this.ticking) {
      await this.ticking;
      await this.slots.settled();
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
    const free = this.slots.free;
    if (free <= 0 || this.closing) {
      this.saturated = true;
      return false;
    }
    const leasedAt = this.clock.now();
    const claimed = await this.queue.claimReadyHeads(leasedAt, free, this.leaseMs, this.instanceId);
    this.saturated = claimed.length >= free;
    for (const c of claimed) {
      if (this.closing) this.giveBack(c.subscriptionId, 0);
      else this.slots.offer({ claimed: c, leasedAt });
    }
    return claimed.length > 0;
  }

  private giveBack(subscriptionId: string, delayMs: number): void {
    this.queue
      .release(subscriptionId, this.instanceId, this.clock.now() + delayMs)
      .catch((err: unknown) => this.logger.warn({ err, subscriptionId }, 'could not release an event queue; its lease will expire'));
  }

  private async drainOrRelease(lease: Lease): Promise<void> {
    const id = lease.claimed.subscriptionId;
    try {
      await this.drain(lease);
    } catch (err) {
      this.logger.error({ err, subscriptionId: id }, 'event delivery failed unexpectedly; retrying later');
      await this.queue
        .release(id, this.instanceId, this.clock.now() + 1000)
        .catch((e: unknown) => this.logger.warn({ err: e, subscriptionId: id }, 'could not release an event queue; its lease will expire'));
      this.schedule(1000);
    }
  }

  /** Delivers the leased queue head after head, up to `batch`, while the lease holds. */
  private async drain(first: Lease): Promise<void> {
    const id = first.claimed.subscriptionId;
    let cur = first;
    for (let n = 1; ; n++) {
      const sub = cur.claimed.subscription;
      if (!sub) return this.dropQueue(id, 'subscription_deleted', 'subscription no longer exists');
      if (this.clock.now() - cur.leasedAt > this.leaseMs / 2) {
        const at = this.clock.now();
        if (!(await this.queue.renew(id, this.instanceId, this.leaseMs))) return; // lease lost: someone else has it
        cur = { ...cur, leasedAt: at };
      }
      const step = await this.attempt(sub, cur.claimed.head);
      if (step.kind === 'stop') return;
      cur = step.lease;
      if (n >= this.batch || this.closing) {
        await this.queue.release(id, this.instanceId, this.clock.now());
        if (!this.closing) this.nudge();
        return;
      }
    }
  }

  /** One delivery attempt of the head, then the policy's decision applied. */
  private async attempt(sub: StoredSubscription, head: QueueHead): Promise<Step> {
    const { event } = head;
    const body = this.bodies.get(event.id) ?? JSON.stringify(toCloudEvent(event, this.source));
    const outcome = await this.transport.post({
      sink: sub.sink,
      body,
      correlator: event.correlator ?? event.id,
      ...(sub.sinkCredential ? { bearerToken: sub.sinkCredential.accessToken } : {}),
    });
    const decision = decideDelivery(outcome, head.attempts, this.opts.schedule);
    this.keepBody(event.id, decision.kind === 'retry' ? body : undefined);
    if (decision.kind === 'ack') this.metrics.recordDelivered(this.clock.now() - Date.parse(event.time));
    else this.metrics.recordFailedAttempt(decision.attempt);
    return this.apply(decision, sub, head);
  }

  /** Keeps (or forgets, `body` undefined) the serialised body of an event for its next attempt. */
  private keepBody(eventId: string, body: string | undefined): void {
    this.bodies.delete(eventId);
    if (body === undefined) return;
    if (this.bodies.size >= KEPT_BODIES) this.bodies.delete(this.bodies.keys().next().value ?? '');
    this.bodies.set(eventId, body);
  }

  /** Not `async`: the usual outcome (ack) hands back `done`'s promise without wrapping it in another. */
  private apply(d: DeliveryDecision, sub: StoredSubscription, head: QueueHead): Promise<Step> {
    const { event } = head;
    const ids = (): Record<string, string> => ({ subscriptionId: sub.id, eventId: event.id, eventType: event.type, ...(event.correlator ? { correlator: event.correlator } : {}) });
    switch (d.kind) {
      case 'ack':
        if (this.logger.isLevelEnabled('debug')) this.logger.debug(ids(), 'event delivered');
        return this.done(sub.id, head, undefined);
      case 'retry':
        this.logger.warn({ ...ids(), attempts: d.attempts, retryInMs: d.delayMs }, `event delivery failed (${d.detail}); will retry`);
        return this.retryLater(sub.id, event.id, d.attempts, d.delayMs);
      case 'drop':
        return this.done(sub.id, head, () => this.logDrop(sub.id, event.id, d.reason, d.detail, { eventType: event.type, attempts: d.attempts }));
      case 'end-subscription':
        this.logger.warn(ids(), 'sink answered 410 Gone: subscription ends (NETWORK_TERMINATED); subscription-ended cannot be delivered to it');
        return this.endSubscription(sub, d.reason, d.queueDropped);
    }
  }

  private async retryLater(subscriptionId: string, eventId: string, attempts: number, delayMs: number): Promise<Step> {
    if (await this.queue.retryAt(subscriptionId, eventId, attempts, this.clock.now() + delayMs, this.instanceId)) this.schedule(delayMs + 2);
    return STOP;
  }

  private async endSubscription(
    sub: StoredSubscription,
    reason: Extract<DeliveryDecision, { kind: 'end-subscription' }>['reason'],
    queueDropped: Extract<DeliveryDecision, { kind: 'end-subscription' }>['queueDropped'],
  ): Promise<Step> {
    await this.lifecycle.end(sub, reason);
    await this.dropQueue(sub.id, queueDropped, 'the sink is gone');
    return STOP;
  }

  /**
   * Removes the head (delivered, or dropped: `dropped` then records the drop once the removal
   * is ours) and goes on with the next head under the same lease. After `subscription-ended`
   * nothing more goes to this sink: the queue is dropped and the subscription purged.
   */
  private async done(subscriptionId: string, head: QueueHead, dropped: (() => void) | undefined): Promise<Step> {
    if (head.event.type === WebrtcEventType.subscriptionEnded) {
      if (!(await this.queue.ack(subscriptionId, head.event.id, this.instanceId))) return STOP;
      dropped?.();
      await this.dropQueue(subscriptionId, 'subscription_deleted', 'enqueued after subscription-ended');
      return STOP;
    }
    const at = this.clock.now();
    const r = await this.queue.ackAndNext(subscriptionId, head.event.id, this.instanceId, this.leaseMs);
    if (r.kind === 'lost') return STOP;
    dropped?.();
    return r.kind === 'next' ? { kind: 'next', lease: { claimed: r.next, leasedAt: at } } : STOP;
  }

  private logDrop(subscriptionId: string, eventId: string, reason: DropReason, detail: string, extra: Record<string, unknown> = {}): void {
    this.metrics.recordDropped(reason);
    this.logger.error({ subscriptionId, eventId, ...extra, dropReason: reason }, `event dropped (${DROP_DESCRIPTIONS[reason]}): ${detail}`);
  }

  /** Drops every queued event of the subscription (each counted as `reason`) and forgets the subscription. */
  private async dropQueue(subscriptionId: string, reason: Extract<DropReason, 'sink_gone' | 'subscription_deleted'>, detail: string): Promise<void> {
    const ids = await this.queue.discard(subscriptionId);
    for (const eventId of ids) this.logDrop(subscriptionId, eventId, reason, detail);
    await this.store.purge(subscriptionId);
  }
}
