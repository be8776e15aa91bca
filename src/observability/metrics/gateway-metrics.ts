import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { LimitName, LimitTelemetry } from '../../common/limits/limit-telemetry';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { BoundHistogram } from './bound-histogram';
import { ROOT_LOGGER, RootLogger } from '../../common/logging/root-logger';
import type { SessionStatus } from '../../domain/media-session-status';
import type { CallTelemetry } from '../../sessions/call-telemetry';
import type { SipRefusalReason, SipTelemetry } from '../../sip/sip-telemetry';
import type { EventTelemetry } from '../../events/event-metrics';
import type { RegistrationRefreshFailure, RegistrationTelemetry } from '../../registrations/registration-telemetry';
import type { StoreTelemetry } from '../../store/store-telemetry';
import { Clock } from '../../common/clock';
import { distribution, PerSecondSeries, RecentSamples, RingBuffer, SecondCounts, WINDOW_S } from './call-window';
import { CallFailure, CallSetupSnapshot, setupTotals } from './call-setup-snapshot';
import { withTimeout } from './with-timeout';
import { SipMessageTally } from './sip-message-tally';
import { CallDirection, directionLabel, httpStatusLabel, identifierLabel, sanitizeReason, sessionStatusLabel, sipCodeLabel, SipDirection, sipMethodLabel } from './labels';

export type { CallDirection, SipDirection } from './labels';

export type { RegistrationRefreshFailure } from '../../registrations/registration-telemetry';
/** How a webhook delivery attempt ended. */
export type EventDeliveryOutcome = Parameters<EventTelemetry['eventDeliveryAttempt']>[0];
/** Why an event was given up on (CAMARA events: after the retry budget, or the sink said 410). */
export type EventDropReason = Parameters<EventTelemetry['eventDropped']>[0];
/** Where a SIP transport error happened. */
export type SipTransportErrorKind = Parameters<SipTelemetry['sipTransportError']>[0];

const SETUP_BUCKETS_S = [0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60, 90, 120];
const PDD_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30];
const HTTP_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STORE_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const EVENT_LATENCY_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** RFC 6076 §4.8 (SEER): these finals mean the network did its job and the user said no. */
const EFFECTIVE_FAILURE_CODES = new Set([480, 486, 600, 603]);
/** A scrape must not hang on a dead store: gauges read from it give up after this. */
export const GAUGE_READ_TIMEOUT_MS = 1000;
const FAILURE_RING_SIZE = 50;
const RECENT_SAMPLES = 20_000;

/**
 * Every metric the gateway exports, on its own prom-client Registry (not the global one: tests
 * build several apps in one process). Other modules report through the telemetry interfaces they
 * declare (the observability module provides this class under each token); nothing here takes an
 * id, a URI or a phone number, so no label can grow without bound.
 */
@Injectable()
export class GatewayMetrics implements CallTelemetry, SipTelemetry, EventTelemetry, RegistrationTelemetry, StoreTelemetry, LimitTelemetry, OnModuleDestroy {
  readonly registry = new Registry();

  private readonly callAttempts: Counter<'direction'>;
  private readonly postDialDelay: BoundHistogram<'direction'>;
  private readonly setupTime: BoundHistogram<'direction'>;
  private readonly setupResults: Counter<'direction' | 'sip_code'>;
  private readonly callOutcomes: Counter<'direction' | 'status' | 'sip_code'>;
  private readonly httpDuration: BoundHistogram<'operation' | 'status_code'>;
  private readonly sipMessages: Counter<'direction' | 'method' | 'kind' | 'code'>;
  /** Per-message counts, read by `sipMessages` when scraped (no label lookup per message). */
  private readonly sipTally = new SipMessageTally();
  private readonly sipRetransmissions: Counter<'method'>;
  private readonly sipTimeouts: Counter<'method'>;
  private readonly sipTransportErrors: Counter<'kind'>;
  private readonly sipRefusals: Counter<'reason'>;
  private readonly registrationRefreshFailures: Counter<'reason'>;
  private readonly eventDeliveries: Counter<'outcome'>;
  private readonly eventLatency: BoundHistogram;
  private readonly eventsDropped: Counter<'reason'>;
  private readonly storeDuration: BoundHistogram<'store' | 'operation'>;
  private readonly storeErrors: Counter<'store' | 'operation'>;
  private readonly limitRefusals: Counter<'limit'>;

  private readonly perSecond = new PerSecondSeries(WINDOW_S);
  private readonly recentSetup = new RecentSamples(RECENT_SAMPLES);
  private readonly recentPdd = new RecentSamples(RECENT_SAMPLES);
  private readonly failures = new RingBuffer<CallFailure>(FAILURE_RING_SIZE);
  private backlogReader: (() => Promise<number>) | undefined;

  /** Read at scrape time; registered by whoever owns the numbers (see StoreGauges), so the stores can be instrumented by this class without a cycle. */
  private registrationsReader: (() => Promise<number>) | undefined;
  private sessionsReader: (() => Promise<number>) | undefined;

  constructor(
    private readonly clock: Clock,
    @Inject(ROOT_LOGGER) private readonly logger: RootLogger,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });

    this.callAttempts = new Counter({ name: 'gateway_call_attempts_total', help: 'Call setup attempts (INVITE sent or received), RFC 6076 session attempts.', labelNames: ['direction'], registers });
    this.postDialDelay = new BoundHistogram('gateway_call_post_dial_delay_seconds', 'INVITE to first 18x (post-dial delay; RFC 6076 successful SRD).', ['direction'], PDD_BUCKETS_S, registers);
    this.setupTime = new BoundHistogram('gateway_call_setup_duration_seconds', 'INVITE to 2xx (call setup time).', ['direction'], SETUP_BUCKETS_S, registers);
    this.setupResults = new Counter({
      name: 'gateway_call_setup_results_total',
      help: 'How call setups concluded, by SIP final response to the INVITE (sip_code="none": no final response: timeout, transport error).',
      labelNames: ['direction', 'sip_code'],
      registers,
    });
    this.callOutcomes = new Counter({
      name: 'gateway_call_outcomes_total',
      help: 'Sessions that reached a final CAMARA status, by status and last SIP final code.',
      labelNames: ['direction', 'status', 'sip_code'],
      registers,
    });

    this.httpDuration = new BoundHistogram(
      'gateway_http_request_duration_seconds',
      'REST request duration by operation (method and route pattern) and HTTP status.',
      ['operation', 'status_code'],
      HTTP_BUCKETS_S,
      registers,
    );

    this.sipMessages = new Counter({
      name: 'gateway_sip_messages_total',
      help: 'SIP messages sent (out) and received (in); kind=request|response, code="none" for requests.',
      labelNames: ['direction', 'method', 'kind', 'code'],
      registers,
      collect: () => this.sipTally.collectInto(this.sipMessages),
    });
    this.sipRetransmissions = new Counter({ name: 'gateway_sip_retransmissions_total', help: 'SIP retransmissions sent (RFC 3261 §17 timers A/E/G).', labelNames: ['method'], registers });
    this.sipTimeouts = new Counter({ name: 'gateway_sip_transaction_timeouts_total', help: 'SIP client transactions that timed out (RFC 3261 timers B/F).', labelNames: ['method'], registers });
    this.sipTransportErrors = new Counter({
      name: 'gateway_sip_transport_errors_total',
      help: 'SIP transport errors (socket send/receive, unparsable message, connection).',
      labelNames: ['kind'],
      registers,
    });
    this.sipRefusals = new Counter({
      name: 'gateway_sip_refused_total',
      help: 'SIP traffic refused at the edge: untrusted source (RFC 3325), malformed, SIP version, TCP connection limits.',
      labelNames: ['reason'],
      registers,
    });
    this.registrationRefreshFailures = new Counter({
      name: 'gateway_registration_refresh_failures_total',
      help: 'REGISTER refreshes that failed, by failure kind.',
      labelNames: ['reason'],
      registers,
    });

    this.limitRefusals = new Counter({ name: 'gateway_limit_refusals_total', help: 'Requests refused with 429 TOO_MANY_REQUESTS, by rate limit or quota.', labelNames: ['limit'], registers });
    this.eventDeliveries = new Counter({ name: 'gateway_event_deliveries_total', help: 'Webhook delivery attempts by outcome.', labelNames: ['outcome'], registers });
    this.eventLatency = new BoundHistogram('gateway_event_delivery_latency_seconds', 'Event creation to the sink answering 2xx.', [], EVENT_LATENCY_BUCKETS_S, registers);
    this.eventsDropped = new Counter({ name: 'gateway_events_dropped_total', help: 'Events given up on, by reason.', labelNames: ['reason'], registers });

    this.storeDuration = new BoundHistogram('gateway_store_operation_duration_seconds', 'State store operation latency.', ['store', 'operation'], STORE_BUCKETS_S, registers);
    this.storeErrors = new Counter({
      name: 'gateway_store_operation_errors_total',
      help: 'State store operations that failed (Redis down shows here).',
      labelNames: ['store', 'operation'],
      registers,
    });

    // Gauges read at scrape time. A failed (or impossible) read exports NaN: "unknown", never a stale
    // or made-up number. The store's own failure shows in gateway_store_operation_errors_total.
    const readGauge = (name: string, help: string, read: () => Promise<number> | undefined): void => {
      const logger = this.logger;
      new Gauge({
        name,
        help,
        registers,
        async collect(): Promise<void> {
          const pending = read();
          if (pending === undefined) {
            this.set(Number.NaN);
            return;
          }
          try {
            this.set(await withTimeout(pending, GAUGE_READ_TIMEOUT_MS, name));
          } catch (err) {
            this.set(Number.NaN);
            logger.warn({ err: err instanceof Error ? err.message : String(err) }, `metrics: could not read ${name}`);
          }
        },
      });
    };
    readGauge('gateway_registrations_active', 'Registrations stored (all instances).', () => this.registrationsReader?.());
    readGauge('gateway_sessions_active', 'Media sessions not in a final status (all instances).', () => this.sessionsReader?.());
    readGauge('gateway_event_backlog', 'Events waiting for delivery (all instances).', () => this.backlogReader?.());
  }

  onModuleDestroy(): void {
    // Drops every series (a test that builds several apps must not keep old ones around).
    this.registry.clear();
  }

  // ----------------------------------------------------------------------------- call setup

  /** An INVITE left (outgoing) or arrived (incoming) for a new session. */
  callStarted(direction: CallDirection): void {
    this.callAttempts.inc({ direction: directionLabel(direction) });
    this.perSecond.add(this.clock.now(), 'attempts');
  }

  /** First 18x of the setup (call it once per call), `ms` after the INVITE. */
  callProvisional(direction: CallDirection, ms: number): void {
    if (!isDuration(ms)) return;
    this.postDialDelay.observe({ direction: directionLabel(direction) }, ms / 1000);
    this.recentPdd.add(this.clock.now(), ms);
  }

  /** The 2xx to the INVITE, `ms` after it. `code` defaults to 200. */
  callAnswered(direction: CallDirection, ms: number, code = 200): void {
    const d = directionLabel(direction);
    this.setupResults.inc({ direction: d, sip_code: sipCodeLabel(code) });
    this.perSecond.add(this.clock.now(), 'answered');
    if (!isDuration(ms)) return;
    this.setupTime.observe({ direction: d }, ms / 1000);
    this.recentSetup.add(this.clock.now(), ms);
  }

  /**
   * The session reached a final status. `sipCode` is the SIP final response that decided it
   * (`undefined` when none: timeout, transport error, local hang-up). `reason` is the reason
   * phrase or an internal cause; it is sanitised (no numbers, URIs) and shown on the dashboard.
   * A session that was answered ends as a normal release; otherwise it counts as a failed setup.
   * `answered` defaults to `status === 'Terminated'`; pass it for a call that failed after its 2xx.
   */
  callEnded(direction: CallDirection, status: SessionStatus, sipCode: number | undefined, reason?: string, answered: boolean = status === 'Terminated'): void {
    const d = directionLabel(direction);
    this.callOutcomes.inc({ direction: d, status: sessionStatusLabel(status), sip_code: sipCodeLabel(sipCode) });
    if (answered) return;
    const now = this.clock.now();
    this.setupResults.inc({ direction: d, sip_code: sipCodeLabel(sipCode) });
    this.perSecond.add(now, 'failed');
    if (sipCode !== undefined && sipCode >= 300 && sipCode < 400) this.perSecond.add(now, 'redirected');
    if (sipCode !== undefined && EFFECTIVE_FAILURE_CODES.has(sipCode)) this.perSecond.add(now, 'effectiveFailures');
    this.failures.push({
      time: new Date(now).toISOString(),
      direction: d,
      status: sessionStatusLabel(status),
      sipCode: sipCodeLabel(sipCode) === 'none' || sipCodeLabel(sipCode) === 'other' ? null : (sipCode ?? null),
      reason: sanitizeReason(reason) ?? null,
    });
  }

  // ----------------------------------------------------------------------------- REST

  /** One REST request: `operation` is `METHOD /route/pattern` (never the raw URL). */
  httpRequest(operation: string, statusCode: number, ms: number): void {
    if (!isDuration(ms)) return;
    this.httpDuration.observe({ operation, status_code: httpStatusLabel(statusCode) }, ms / 1000);
  }

  // ----------------------------------------------------------------------------- SIP

  /** A SIP request (no `code`) or response (`code`) sent (`out`) or received (`in`). Retransmissions excluded. */
  sipMessage(direction: SipDirection, method: string, code?: number): void {
    this.sipTally.count(direction, method, code);
  }

  sipRetransmission(method: string): void {
    this.sipRetransmissions.inc({ method: sipMethodLabel(method) });
  }

  sipTransactionTimeout(method: string): void {
    this.sipTimeouts.inc({ method: sipMethodLabel(method) });
  }

  sipTransportError(kind: SipTransportErrorKind): void {
    this.sipTransportErrors.inc({ kind });
  }

  sipRefused(reason: SipRefusalReason): void {
    this.sipRefusals.inc({ reason });
  }

  registrationRefreshFailed(reason: RegistrationRefreshFailure): void {
    this.registrationRefreshFailures.inc({ reason });
  }

  limitRefused(limit: LimitName): void {
    this.limitRefusals.inc({ limit });
  }

  // ----------------------------------------------------------------------------- events

  eventDeliveryAttempt(outcome: EventDeliveryOutcome): void {
    this.eventDeliveries.inc({ outcome });
  }

  /** The sink answered 2xx `latencyMs` after the event was created. */
  eventDelivered(latencyMs: number): void {
    this.eventDeliveries.inc({ outcome: 'delivered' });
    if (isDuration(latencyMs)) this.eventLatency.observe({}, latencyMs / 1000);
  }

  eventDropped(reason: EventDropReason): void {
    this.eventsDropped.inc({ reason });
  }

  /** The events module registers how to read the queue's backlog (read at scrape, with a timeout). */
  registerStoreGauges(readers: { registrations: () => Promise<number>; activeSessions: () => Promise<number> }): void {
    this.registrationsReader = readers.registrations;
    this.sessionsReader = readers.activeSessions;
  }

  registerBacklogGauge(read: () => Promise<number>): void {
    this.backlogReader = read;
  }

  /** The backlog for the dashboard; `undefined` when nobody registered a reader. */
  readBacklog(): Promise<number> | undefined {
    const read = this.backlogReader;
    return read ? withTimeout(read(), GAUGE_READ_TIMEOUT_MS, 'event backlog') : undefined;
  }

  // ----------------------------------------------------------------------------- store

  storeOperation(store: string, operation: string, durationMs: number, failed: boolean): void {
    const labels = { store: identifierLabel(store), operation: identifierLabel(operation) };
    if (isDuration(durationMs)) this.storeDuration.observe(labels, durationMs / 1000);
    if (failed) this.storeErrors.inc(labels);
  }

  // ----------------------------------------------------------------------------- reading

  /** Prometheus text exposition. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The last 15 minutes of call setup, for the dashboard. */
  callSetupSnapshot(bucketS = 10): CallSetupSnapshot {
    const now = this.clock.now();
    const seconds = this.perSecond.lastSeconds(now, WINDOW_S);
    const t: number[] = [];
    const attemptsPerS: number[] = [];
    const answeredPerS: number[] = [];
    const failedPerS: number[] = [];
    const serPct: Array<number | null> = [];
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    for (let end = seconds.length; end >= bucketS; end -= bucketS) {
      const slice = seconds.slice(end - bucketS, end);
      const trailing = seconds.slice(Math.max(0, end - 60), end);
      const sum = (k: keyof SecondCounts, arr: SecondCounts[]): number => arr.reduce((acc, s) => acc + s[k], 0);
      t.unshift(slice[slice.length - 1]?.second ?? 0);
      attemptsPerS.unshift(round(sum('attempts', slice) / bucketS));
      answeredPerS.unshift(round(sum('answered', slice) / bucketS));
      failedPerS.unshift(round(sum('failed', slice) / bucketS));
      serPct.unshift(setupTotals({ attempts: 0, answered: sum('answered', trailing), failed: sum('failed', trailing), redirected: sum('redirected', trailing), effectiveFailures: 0 }).serPct);
    }
    const setupBoundsMs = SETUP_BUCKETS_S.map((s) => s * 1000);
    const pddBoundsMs = PDD_BUCKETS_S.map((s) => s * 1000);
    return {
      windowS: WINDOW_S,
      series: { bucketS, t, attemptsPerS, answeredPerS, failedPerS, serPct },
      totals: {
        last1m: setupTotals(this.perSecond.total(now, 60)),
        last5m: setupTotals(this.perSecond.total(now, 300)),
        last15m: setupTotals(this.perSecond.total(now, WINDOW_S)),
      },
      setupTimeMs: distribution(this.recentSetup.values(now), setupBoundsMs),
      postDialDelayMs: distribution(this.recentPdd.values(now), pddBoundsMs),
      failures: this.failures.toArray().reverse(),
    };
  }
}

function isDuration(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0;
}
