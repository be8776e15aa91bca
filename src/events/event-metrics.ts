import type { EventQueue } from '../store/event-queue';
import type { PermanentFailure, RetryableFailure } from './sink-client';

/** How one delivery attempt ended: the `outcome` label of the attempt metric (observability's EventDeliveryOutcome). */
export type AttemptOutcome = 'delivered' | FailedAttempt;
/** Why an attempt did not deliver. */
export type FailedAttempt = RetryableFailure | PermanentFailure;
/** Why an event was given up on: the `reason` label of the drop metric (observability's EventDropReason). */
export type DropReason = 'retries_exhausted' | 'rejected' | 'sink_gone' | 'subscription_deleted';

/** What a metrics module can read about event delivery (this instance's counters, the shared backlog). */
export interface EventDeliveryStats {
  /** Events a sink accepted (2xx). */
  readonly delivered: number;
  /** Attempts that did not deliver (network error, timeout, non-2xx, refused address). */
  readonly failedAttempts: number;
  /** Events given up on: budget exhausted, permanent rejection, 410 sink, or subscription gone. */
  readonly dropped: number;
  /** Events waiting in the queue, across every instance. */
  backlog(): Promise<number>;
}

/** What event delivery reports for monitoring (implemented by the observability module's GatewayMetrics). */
export interface EventTelemetry {
  eventDeliveryAttempt(outcome: AttemptOutcome): void;
  eventDelivered(latencyMs: number): void;
  eventDropped(reason: DropReason): void;
}

/** Optional DI token for an EventTelemetry. */
export const EVENT_TELEMETRY = Symbol('EVENT_TELEMETRY');

/** The counters behind `EventDeliveryStats`; the delivery worker records through it. */
export class EventMetrics implements EventDeliveryStats {
  delivered = 0;
  failedAttempts = 0;
  dropped = 0;

  constructor(
    private readonly queue: EventQueue,
    private readonly telemetry?: EventTelemetry,
  ) {}

  recordDelivered(latencyMs: number): void {
    this.delivered += 1;
    this.telemetry?.eventDeliveryAttempt('delivered');
    this.telemetry?.eventDelivered(Math.max(0, latencyMs));
  }

  recordFailedAttempt(outcome: FailedAttempt): void {
    this.failedAttempts += 1;
    this.telemetry?.eventDeliveryAttempt(outcome);
  }

  recordDropped(reason: DropReason): void {
    this.dropped += 1;
    this.telemetry?.eventDropped(reason);
  }

  backlog(): Promise<number> {
    return this.queue.backlog();
  }
}
