import type { AppConfig } from '../config/app-config';
import type { DeliveryWorkerOptions } from './delivery-worker';
import { exponentialBackoff } from './retry-schedule';
import type { SinkPolicy } from './sink-address';
import { UndiciSinkTransport } from './sink-client';
import { DEFAULT_SINK_POOL_OPTIONS } from './sink-pools';

/**
 * How the operator's event settings reach the delivery path (used by `EventsModule`, and by the
 * tests that check the settings against a real sink).
 *
 * One sink origin never sees more concurrent POSTs than the worker's concurrency (a subscription
 * is delivered in order, one POST at a time), so `EVENTS_SINK_CONNECTIONS` defaults to
 * `EVENTS_DELIVERY_CONCURRENCY`: an app whose subscriptions all point at one backend may use
 * every delivery slot. A lower value protects sinks from this instance at that app's expense.
 */
export function sinkTransportFor(events: AppConfig['events'], policy: SinkPolicy): UndiciSinkTransport {
  return new UndiciSinkTransport(policy, DEFAULT_SINK_POOL_OPTIONS.timeoutMs, Date.now, { connectionsPerOrigin: events.sinkConnections });
}

/** The delivery worker's options from the settings: retry budget, concurrency, and the cluster's id for its leases. */
export function deliveryWorkerOptions(events: AppConfig['events'], instanceId?: string): DeliveryWorkerOptions {
  return {
    schedule: exponentialBackoff({ maxAttempts: events.maxAttempts }),
    concurrency: events.deliveryConcurrency,
    // the cluster's id: a survivor adopting this instance releases its delivery leases by it
    ...(instanceId !== undefined && { instanceId }),
  };
}
