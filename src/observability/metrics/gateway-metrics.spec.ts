import pino from 'pino';
import { Clock } from '../../common/clock';
import type { RegistrationStore } from '../../store/registration-store';
import type { SessionStore } from '../../store/session-store';
import { distribution, PerSecondSeries, percentile, RingBuffer } from './call-window';
import { GatewayMetrics } from './gateway-metrics';
import { setupTotals } from './call-setup-snapshot';
import { sanitizeReason, sipCodeLabel, sipMethodLabel } from './labels';

class FakeClock extends Clock {
  constructor(public t = Date.UTC(2026, 0, 1, 12, 0, 0)) {
    super();
  }
  now(): number {
    return this.t;
  }
}

function make(over: { count?: () => Promise<number>; countActive?: () => Promise<number> } = {}): { metrics: GatewayMetrics; clock: FakeClock } {
  const clock = new FakeClock();
  const registrations = { count: over.count ?? (async () => 7) } as unknown as RegistrationStore;
  const sessions = { countActive: over.countActive ?? (async () => 3) } as unknown as SessionStore;
  const metrics = new GatewayMetrics(clock, pino({ level: 'silent' }));
  metrics.registerStoreGauges({ registrations: () => registrations.count(), activeSessions: () => sessions.countActive() });
  return { metrics, clock };
}

/** Label sets of every sample of `name` in the exposition. */
async function samples(m: GatewayMetrics, name: string): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  const metric = await m.registry.getSingleMetricAsString(name).then(() => m.registry.getSingleMetric(name)?.get());
  return (metric?.values ?? []).map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

describe(GatewayMetrics.name, () => {
  afterEach(() => jest.useRealTimers());

  describe('call setup', () => {
    it('counts attempts and observes post-dial delay and setup time by direction', async () => {
      const { metrics } = make();
      metrics.callStarted('outgoing');
      metrics.callProvisional('outgoing', 250);
      metrics.callAnswered('outgoing', 1200);
      const text = await metrics.scrape();
      expect(text).toContain('gateway_call_attempts_total{direction="outgoing"} 1');
      expect(text).toContain('gateway_call_post_dial_delay_seconds_bucket{le="0.25",direction="outgoing"} 1');
      expect(text).toContain('gateway_call_setup_duration_seconds_bucket{le="1",direction="outgoing"} 0');
      expect(text).toContain('gateway_call_setup_duration_seconds_bucket{le="2",direction="outgoing"} 1');
      expect(text).toContain('gateway_call_setup_results_total{direction="outgoing",sip_code="200"} 1');
    });

    it('labels outcomes by direction, final status and SIP code only', async () => {
      const { metrics } = make();
      metrics.callEnded('outgoing', 'Busy', 486, 'Busy Here');
      metrics.callEnded('incoming', 'Failed', undefined, 'Timer B fired');
      metrics.callEnded('outgoing', 'Terminated', 200);
      const outcomes = await samples(metrics, 'gateway_call_outcomes_total');
      expect(outcomes.map((s) => s.labels)).toEqual(
        expect.arrayContaining([
          { direction: 'outgoing', status: 'Busy', sip_code: '486' },
          { direction: 'incoming', status: 'Failed', sip_code: 'none' },
          { direction: 'outgoing', status: 'Terminated', sip_code: '200' },
        ]),
      );
      for (const s of outcomes) expect(Object.keys(s.labels).sort()).toEqual(['direction', 'sip_code', 'status']);
      // A released call is not a failed setup.
      const results = await samples(metrics, 'gateway_call_setup_results_total');
      expect(results.map((s) => s.labels.sip_code).sort()).toEqual(['486', 'none']);
    });

    it('never turns a bad code or method into a new label value', async () => {
      const { metrics } = make();
      metrics.sipMessage('in', 'X-CUSTOM-METHOD-1234', 99999);
      metrics.sipMessage('out', 'invite');
      metrics.callEnded('outgoing', 'Failed', 42);
      const sip = await samples(metrics, 'gateway_sip_messages_total');
      expect(sip.map((s) => s.labels)).toEqual(
        expect.arrayContaining([
          { direction: 'in', method: 'other', kind: 'response', code: 'other' },
          { direction: 'out', method: 'INVITE', kind: 'request', code: 'none' },
        ]),
      );
      expect(sipCodeLabel(180)).toBe('180');
      expect(sipMethodLabel('bye')).toBe('BYE');
    });

    it('counts SIP messages without touching the prom-client counter per message; a scrape reads exact totals, twice alike', async () => {
      const { metrics } = make();
      const counter = metrics.registry.getSingleMetric('gateway_sip_messages_total') as unknown as { inc: (...args: unknown[]) => void };
      const inc = jest.spyOn(counter, 'inc');
      for (let i = 0; i < 500; i++) {
        metrics.sipMessage('out', 'INVITE');
        metrics.sipMessage('in', 'INVITE', i % 2 ? 180 : 200);
      }
      metrics.sipMessage('in', 'bye');
      expect(inc).not.toHaveBeenCalled();
      const first = await samples(metrics, 'gateway_sip_messages_total');
      expect(inc).toHaveBeenCalled(); // positive control: the scrape writes the totals
      const byKey = (xs: typeof first) => Object.fromEntries(xs.map((x) => [`${x.labels.direction} ${x.labels.method} ${x.labels.kind} ${x.labels.code}`, x.value]));
      expect(byKey(first)).toEqual({ 'out INVITE request none': 500, 'in INVITE response 180': 250, 'in INVITE response 200': 250, 'in BYE request none': 1 });
      expect(byKey(await samples(metrics, 'gateway_sip_messages_total'))).toEqual(byKey(first));
      metrics.sipMessage('out', 'INVITE');
      expect(byKey(await samples(metrics, 'gateway_sip_messages_total'))['out INVITE request none']).toBe(501);
      inc.mockRestore();
    });

    it('keeps the last 50 failures, newest first, without phone numbers or URIs', () => {
      const { metrics, clock } = make();
      for (let i = 0; i < 60; i++) {
        clock.t += 1000;
        metrics.callEnded('outgoing', 'NotReachable', 404, `Not Found ${i}`);
      }
      metrics.callEnded('outgoing', 'Failed', 500, 'Server error for sip:+17085852753@ims.lab calling +1 708 585 2753');
      const failures = metrics.callSetupSnapshot().failures;
      expect(failures).toHaveLength(50);
      expect(failures[0]).toEqual({ time: expect.any(String), direction: 'outgoing', status: 'Failed', sipCode: 500, reason: 'Server error for [uri] calling [number]' });
      expect(failures[49]?.reason).toBe('Not Found 11');
      expect(JSON.stringify(failures)).not.toMatch(/7085852753/);
    });
  });

  describe('dashboard snapshot', () => {
    it('rates the last minute: SER excludes 3xx, SEER counts 486 as effective, ASR over concluded setups', () => {
      const { metrics, clock } = make();
      for (let i = 0; i < 10; i++) metrics.callStarted('outgoing');
      for (let i = 0; i < 6; i++) metrics.callAnswered('outgoing', 1000 + i * 100);
      metrics.callEnded('outgoing', 'Busy', 486);
      metrics.callEnded('outgoing', 'Failed', 302);
      metrics.callEnded('outgoing', 'Failed', 503);
      clock.t += 5000;
      const snap = metrics.callSetupSnapshot();
      expect(snap.totals.last1m).toMatchObject({ attempts: 10, answered: 6, failed: 3, redirected: 1, effectiveFailures: 1 });
      expect(snap.totals.last1m.serPct).toBe(75); // 6 / (9 - 1)
      expect(snap.totals.last1m.seerPct).toBe(87.5); // (6 + 1) / 8
      expect(snap.totals.last1m.asrPct).toBe(66.7); // 6 / 9
      expect(snap.setupTimeMs).toMatchObject({ count: 6, p50: 1200, p95: 1500, p99: 1500, max: 1500 });
      expect(snap.series.t).toHaveLength(90);
      expect(snap.series.attemptsPerS.reduce((a, b) => a + b, 0)).toBeCloseTo(1); // 10 attempts in one 10 s bucket
    });

    it('forgets traffic older than 15 minutes', () => {
      const { metrics, clock } = make();
      metrics.callStarted('incoming');
      metrics.callAnswered('incoming', 800);
      clock.t += 15 * 60_000 + 1000;
      const snap = metrics.callSetupSnapshot();
      expect(snap.totals.last15m.attempts).toBe(0);
      expect(snap.setupTimeMs.count).toBe(0);
      expect(snap.setupTimeMs.p50).toBeNull();
    });
  });

  describe('gauges read at scrape', () => {
    it('reads registrations, active sessions and the event backlog', async () => {
      const { metrics } = make();
      metrics.registerBacklogGauge(async () => 12);
      const text = await metrics.scrape();
      expect(text).toContain('gateway_registrations_active 7');
      expect(text).toContain('gateway_sessions_active 3');
      expect(text).toContain('gateway_event_backlog 12');
    });

    it('exports NaN for a gauge whose store does not answer instead of hanging the scrape', async () => {
      jest.useFakeTimers({ doNotFake: ['performance', 'nextTick', 'setImmediate'] });
      const { metrics } = make({ count: () => new Promise<number>(() => undefined) });
      const scrape = metrics.scrape();
      await jest.advanceTimersByTimeAsync(1001);
      const text = await scrape;
      expect(text).toMatch(/^gateway_registrations_active nan$/im); // prom-client writes "Nan"; Prometheus parses NaN case-insensitively
      expect(text).toMatch(/^gateway_event_backlog nan$/im); // nobody registered a reader
      expect(text).toContain('gateway_sessions_active 3');
    });
  });

  it('exposes the default process metrics (event-loop lag, heap, RSS)', async () => {
    const text = await make().metrics.scrape();
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('nodejs_heap_size_used_bytes');
    expect(text).toContain('process_resident_memory_bytes');
  });
});

describe('call-window', () => {
  it.each([
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9],
    [[7], 99, 7],
    [[1, 2], 50, 1],
  ])('nearest-rank percentile of %j at p%d is %d', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });

  it('has no percentile without samples and refuses p outside (0, 100]', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('buckets a distribution with an overflow bucket', () => {
    const d = distribution([100, 900, 1000, 5000, 200_000], [1000, 2000]);
    expect(d.buckets).toEqual([
      { le: 1000, count: 3 },
      { le: 2000, count: 0 },
      { le: null, count: 2 },
    ]);
    expect(d.p50).toBe(1000);
  });

  it('ring buffer drops the oldest entries', () => {
    const r = new RingBuffer<number>(3);
    [1, 2, 3, 4, 5].forEach((n) => r.push(n));
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.size).toBe(3);
    expect(() => new RingBuffer(0)).toThrow(RangeError);
  });

  it('per-second series reuses a slot once its second has left the window', () => {
    const s = new PerSecondSeries(10);
    s.add(1_000, 'attempts');
    s.add(11_000, 'attempts', 2); // same slot, 10 s later
    expect(s.total(11_000, 10).attempts).toBe(2);
    expect(s.lastSeconds(11_000, 3).map((x) => x.attempts)).toEqual([0, 0, 2]);
  });

  it('ratios are null when nothing concluded', () => {
    expect(setupTotals({ attempts: 3, answered: 0, failed: 0, redirected: 0, effectiveFailures: 0 })).toMatchObject({ serPct: null, seerPct: null, asrPct: null });
  });

  it('sanitises reasons', () => {
    expect(sanitizeReason('Busy\r\nHere')).toBe('Busy Here');
    expect(sanitizeReason('call to tel:+15551234567 failed')).toBe('call to [uri] failed');
    expect(sanitizeReason('x'.repeat(500))).toHaveLength(120);
    expect(sanitizeReason('   ')).toBeUndefined();
  });
});
