import type { EventQueue } from '../store/event-queue';

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

/** The counters behind `EventDeliveryStats`; the delivery worker increments them. */
export class EventMetrics implements EventDeliveryStats {
  delivered = 0;
  failedAttempts = 0;
  dropped = 0;

  constructor(private readonly queue: EventQueue) {}

  backlog(): Promise<number> {
    return this.queue.backlog();
  }
}
