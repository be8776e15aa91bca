import { decideDelivery, DeliveryDecision, DROP_DESCRIPTIONS } from './delivery-policy';
import type { RetrySchedule } from './retry-schedule';
import type { DeliveryOutcome } from './sink-client';

/** 4 attempts; the n-th failure waits n·100 ms, or Retry-After when given. */
const schedule: RetrySchedule = { maxAttempts: 4, delayMs: (n, retryAfterMs) => retryAfterMs ?? n * 100 };

const http = (status: number, retryAfterMs?: number): DeliveryOutcome =>
  status >= 500 || status === 429 || status === 408
    ? { kind: 'retry', failure: 'http_error', reason: `sink answered ${status}`, status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) }
    : { kind: 'reject', failure: 'http_error', reason: `sink answered ${status}`, status };
const refused: DeliveryOutcome = { kind: 'reject', failure: 'refused', reason: 'non-public address' };
const timeout: DeliveryOutcome = { kind: 'retry', failure: 'timeout', reason: 'TimeoutError' };
const network: DeliveryOutcome = { kind: 'retry', failure: 'network_error', reason: 'ECONNREFUSED' };

describe(decideDelivery.name, () => {
  it.each<[string, DeliveryOutcome, number, DeliveryDecision]>([
    ['2xx acks', { kind: 'delivered', status: 204 }, 0, { kind: 'ack', attempt: 'delivered' }],
    ['2xx acks even after failures', { kind: 'delivered', status: 200 }, 3, { kind: 'ack', attempt: 'delivered' }],
    ['410 ends the subscription, its queue dropped as sink_gone', { kind: 'gone' }, 0, { kind: 'end-subscription', attempt: 'http_error', reason: 'NETWORK_TERMINATED', queueDropped: 'sink_gone' }],
    ['503 on the first attempt retries after the first delay', http(503), 0, { kind: 'retry', attempt: 'http_error', attempts: 1, delayMs: 100, detail: 'sink answered 503' }],
    ['429 with Retry-After retries after Retry-After', http(429, 5000), 1, { kind: 'retry', attempt: 'http_error', attempts: 2, delayMs: 5000, detail: 'sink answered 429' }],
    ['a timeout retries, labelled timeout', timeout, 2, { kind: 'retry', attempt: 'timeout', attempts: 3, delayMs: 300, detail: 'TimeoutError' }],
    ['a network error retries, labelled network_error', network, 0, { kind: 'retry', attempt: 'network_error', attempts: 1, delayMs: 100, detail: 'ECONNREFUSED' }],
    [
      'the last allowed attempt failing drops retries_exhausted',
      network,
      3,
      { kind: 'drop', attempt: 'network_error', reason: 'retries_exhausted', attempts: 4, detail: 'ECONNREFUSED; 4 attempts spent' },
    ],
    ['a 5xx past the budget drops retries_exhausted', http(500), 7, { kind: 'drop', attempt: 'http_error', reason: 'retries_exhausted', attempts: 8, detail: 'sink answered 500; 8 attempts spent' }],
    ['other 4xx drops rejected at once', http(400), 0, { kind: 'drop', attempt: 'http_error', reason: 'rejected', attempts: 1, detail: 'sink answered 400' }],
    ['a forbidden address drops rejected, labelled refused', refused, 0, { kind: 'drop', attempt: 'refused', reason: 'rejected', attempts: 1, detail: 'non-public address' }],
  ])('%s', (_name, outcome, failedBefore, decision) => {
    expect(decideDelivery(outcome, failedBefore, schedule)).toEqual(decision);
  });

  it('describes every drop reason for the error log', () => {
    expect(Object.keys(DROP_DESCRIPTIONS).sort()).toEqual(['rejected', 'retries_exhausted', 'sink_gone', 'subscription_deleted']);
  });
});
