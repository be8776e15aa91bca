import type { DropReason, FailedAttempt } from './event-metrics';
import type { RetrySchedule } from './retry-schedule';
import type { DeliveryOutcome } from './sink-client';

/**
 * What the delivery worker does with a queue head after one attempt to POST it. Every decision
 * names the attempt's metric label (`attempt`); drops name their metric label (`reason`).
 */
export type DeliveryDecision =
  /** The sink took it (2xx): remove it from the queue, go on with the next. */
  | { kind: 'ack'; attempt: 'delivered' }
  /** Keep it at the head (order is kept) and try again in `delayMs`; `attempts` failed so far. */
  | { kind: 'retry'; attempt: FailedAttempt; attempts: number; delayMs: number; detail: string }
  /** Give up on this event only; the rest of the queue goes on. */
  | { kind: 'drop'; attempt: FailedAttempt; reason: Extract<DropReason, 'retries_exhausted' | 'rejected'>; attempts: number; detail: string }
  /**
   * The sink is gone: the subscription ends with `reason` and every event still queued for it is
   * dropped as `queueDropped` (the `subscription-ended` event could not reach it either).
   */
  | { kind: 'end-subscription'; attempt: FailedAttempt; reason: 'NETWORK_TERMINATED'; queueDropped: Extract<DropReason, 'sink_gone'> };

/** What each drop reason means, for the error line logged with every dropped event. */
export const DROP_DESCRIPTIONS = {
  retries_exhausted: 'retry budget spent',
  rejected: 'the sink refused it (retrying cannot help)',
  sink_gone: 'sink answered 410 Gone',
  subscription_deleted: 'the subscription is gone',
} as const satisfies Record<DropReason, string>;

// Stryker disable next-line BlockStatement: unreachable, the compiler proves the switch exhaustive
function assertNever(x: never): never {
  // Stryker disable next-line StringLiteral: unreachable (see above)
  throw new Error(`unexpected delivery outcome: ${JSON.stringify(x)}`);
}

/**
 * Decides what follows one delivery attempt. Pure: no I/O, no clock, no logger.
 *
 *   outcome of the POST                     failed attempts (this one included)  decision
 *   delivered  2xx                          -                                    ack
 *   gone       410                          -                                    end-subscription NETWORK_TERMINATED
 *   retry      network error, timeout,      < schedule.maxAttempts               retry after schedule.delayMs(n, Retry-After)
 *              408, 425, 429, 5xx           ≥ schedule.maxAttempts               drop retries_exhausted
 *   reject     other 4xx, forbidden address -                                    drop rejected
 *
 * CloudEvents HTTP 1.1 Web Hooks §2.2 (delivery response): a retired target answers 410 and "the
 * sender SHOULD refrain from sending any further notifications"; a rate-limited one answers 429
 * with Retry-After, which the schedule honours. CAMARA leaves the retry budget to the implementation.
 *
 * @param failedBefore failed attempts the head already had (`QueueHead.attempts`)
 */
export function decideDelivery(outcome: DeliveryOutcome, failedBefore: number, schedule: RetrySchedule): DeliveryDecision {
  switch (outcome.kind) {
    case 'delivered':
      return { kind: 'ack', attempt: 'delivered' };
    case 'gone':
      return { kind: 'end-subscription', attempt: 'http_error', reason: 'NETWORK_TERMINATED', queueDropped: 'sink_gone' };
    case 'retry': {
      const attempts = failedBefore + 1;
      if (attempts >= schedule.maxAttempts) {
        return { kind: 'drop', attempt: outcome.failure, reason: 'retries_exhausted', attempts, detail: `${outcome.reason}; ${attempts} attempts spent` };
      }
      return { kind: 'retry', attempt: outcome.failure, attempts, delayMs: schedule.delayMs(attempts, outcome.retryAfterMs), detail: outcome.reason };
    }
    case 'reject':
      return { kind: 'drop', attempt: outcome.failure, reason: 'rejected', attempts: failedBefore + 1, detail: outcome.reason };
    // Stryker disable next-line ConditionalExpression: unreachable, the compiler proves the switch exhaustive
    default:
      return assertNever(outcome);
  }
}
