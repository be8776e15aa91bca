import { missingDependencies, rangeMajor } from '../../bench/lib/baseline';
import { achievedCps, buildComparison, cpuPerCall, firstRule, formatComparison, kneeOf, lagP99Ms, rotate, secondRule, stillStepping, systemSharePct, type StepFigures } from '../../bench/lib/compare';
import { cpuSplitFromStat } from '../../bench/lib/procfs';

const step = (rate: number, o: Partial<StepFigures & { order: string[] }> = {}): StepFigures & { order?: string[] } => ({
  rate,
  scheduled: rate * 8,
  ok: rate * 8,
  failed: 0,
  achievedCps: rate,
  startLagP99Ms: 2,
  gatewayCpuMsPerCall: 10,
  cpuUserMsPerCall: 7,
  cpuSystemMsPerCall: 3,
  postMs: { p99: 50 },
  answerToConnectedMs: { p99: 80 },
  ...o,
});

describe('bench comparison: knee rules', () => {
  it('first rule: at most 0.1 % of the calls fail', () => {
    expect(firstRule(step(100, { scheduled: 1000, ok: 999, failed: 1 }))).toBe(true);
    expect(firstRule(step(100, { scheduled: 1000, ok: 998, failed: 2 }))).toBe(false);
    expect(firstRule(step(100, { scheduled: 1, ok: 0, failed: 0 }))).toBe(false);
  });

  it('second rule: ≤ 0.5 % failures, ≥ 97 % of the rate reached, start-lag p99 ≤ 1 s', () => {
    expect(secondRule(step(100, { scheduled: 1000, ok: 995, failed: 5, achievedCps: 97 }))).toBe(true);
    expect(secondRule(step(100, { scheduled: 1000, ok: 994, failed: 6 }))).toBe(false);
    expect(secondRule(step(100, { achievedCps: 96.9 }))).toBe(false);
    expect(secondRule(step(100, { startLagP99Ms: 1000 }))).toBe(true);
    expect(secondRule(step(100, { startLagP99Ms: 1000.1 }))).toBe(false);
  });

  it('the knee is the highest rate of the leading passing steps; a later pass does not count', () => {
    const steps = [step(50), step(100), step(150, { failed: 3, ok: 1197 }), step(200)];
    expect(kneeOf(steps, firstRule)).toBe(100);
    // 3 of 1200 = 0.25 %: within the second rule
    expect(kneeOf(steps, secondRule)).toBe(200);
    expect(kneeOf([step(50, { failed: 400, ok: 0 })], firstRule)).toBe(0);
    expect(kneeOf([], secondRule)).toBe(0);
  });

  it('keeps stepping while either rule still passes every step', () => {
    expect(stillStepping([])).toBe(true);
    expect(stillStepping([step(50), step(100, { failed: 3, ok: 797 })])).toBe(true);
    expect(stillStepping([step(50), step(100, { failed: 3, ok: 797, achievedCps: 90 })])).toBe(false);
  });
});

describe('bench comparison: generator figures', () => {
  it('start-lag p99 is the nearest-rank 99th percentile, whatever the order of the samples', () => {
    const lags = Array.from({ length: 200 }, (_, i) => 199 - i); // 0..199 reversed
    expect(lagP99Ms(lags)).toBe(197);
    expect(lagP99Ms([])).toBe(0);
    expect(lagP99Ms([1500, 1, 2])).toBe(1500);
  });

  it('achieved rate: calls started on time at the rate give the rate; a stretched start span gives less', () => {
    // 800 calls at 100/s: first start at 0, last at 7 990 ms
    expect(achievedCps(800, 0, 7990, 100)).toBe(100);
    expect(achievedCps(800, 0, 9990, 100)).toBe(80);
    expect(achievedCps(0, 0, 7990, 100)).toBe(0);
  });

  it('rotates the variants by one per step', () => {
    expect(rotate(['ours', 'baseline'], 0)).toEqual(['ours', 'baseline']);
    expect(rotate(['ours', 'baseline'], 1)).toEqual(['baseline', 'ours']);
    expect(rotate(['a', 'b', 'c'], 4)).toEqual(['b', 'c', 'a']);
    expect(rotate([], 3)).toEqual([]);
  });
});

describe('bench: user and kernel CPU kept apart', () => {
  // a real /proc/<pid>/stat line of a node process, its command name holding a space and a ')'
  const stat = (utime: number, stime: number): string =>
    `4242 (node (gw) x) S 4200 4242 4200 0 -1 4194304 52135 0 0 0 ${utime} ${stime} 0 0 20 0 11 0 123456 1234567168 45678 18446744073709551615 1 1 0 0 0 0 0 16781312 17922 0 0 0 17 1 0 0 0 0 0`;

  it('reads utime (field 14) and stime (field 15) apart, in ms at the clock-tick rate', () => {
    expect(cpuSplitFromStat(stat(1234, 567), 100)).toEqual({ userMs: 12340, systemMs: 5670 });
    expect(cpuSplitFromStat(stat(1234, 567), 1000)).toEqual({ userMs: 1234, systemMs: 567 });
    expect(cpuSplitFromStat('garbage', 100)).toBeNull();
    expect(cpuSplitFromStat(stat(1, 1), 0)).toBeNull();
  });

  it('divides the user and system time of a phase by the completed calls; they add up to the total', () => {
    const before = { userMs: 1000, systemMs: 400 };
    const after = { userMs: 1700, systemMs: 700 };
    expect(cpuPerCall(before, after, 100)).toEqual({ total: 10, user: 7, system: 3 });
    // rounded alike, to µs
    expect(cpuPerCall({ userMs: 0, systemMs: 0 }, { userMs: 10, systemMs: 5 }, 3)).toEqual({ total: 5, user: 3.333, system: 1.667 });
    expect(cpuPerCall(before, after, 0)).toEqual({ total: null, user: null, system: null });
    expect(cpuPerCall(before, { userMs: NaN, systemMs: NaN }, 100)).toEqual({ total: null, user: null, system: null });
  });

  it("gives the kernel's share of the CPU per call", () => {
    expect(systemSharePct(7, 3)).toBe(30);
    expect(systemSharePct(2, 1)).toBe(33.3);
    expect(systemSharePct(null, 3)).toBeNull();
    expect(systemSharePct(0, 0)).toBeNull();
  });
});

describe('bench comparison: the results object', () => {
  it('builds per-rate figures, both knees, the half-knee p99 and ours ÷ baseline ratios', () => {
    const ours = {
      label: 'ours',
      processes: 1,
      steps: [
        step(50, { gatewayCpuMsPerCall: 4, cpuUserMsPerCall: 2.5, cpuSystemMsPerCall: 1.5, order: ['ours', 'baseline'] }),
        step(100, { gatewayCpuMsPerCall: 3 }),
        step(150, { gatewayCpuMsPerCall: 2.5 }),
      ],
      halfKnee: step(75, { postMs: { p99: 12 }, gatewayCpuMsPerCall: 3.5, cpuUserMsPerCall: 2.1, cpuSystemMsPerCall: 1.4 }),
    };
    const baseline = {
      label: 'baseline',
      processes: 1,
      steps: [step(50, { gatewayCpuMsPerCall: 16, cpuUserMsPerCall: 12, cpuSystemMsPerCall: 4 }), step(100, { gatewayCpuMsPerCall: 12, failed: 4, ok: 796 })],
      halfKnee: step(25, { postMs: { p99: 180 }, answerToConnectedMs: { p99: 280 } }),
    };
    const c = buildComparison([ours, baseline], { ref: '4878e05', sha: '4878e05e9e9c' });
    expect(c.baselineRef).toBe('4878e05');
    expect(c.baselineSha).toBe('4878e05e9e9c');
    expect(c.variants).toEqual(['ours', 'baseline']);
    expect(c.rates.map((r) => r.rate)).toEqual([50, 100, 150]);
    expect(c.rates[0]).toMatchObject({ rate: 50, order: ['ours', 'baseline'], cpuMsPerCall: { ours: 4, baseline: 16 }, failed: { ours: 0, baseline: 0 } });
    expect(c.rates[0]).toMatchObject({ cpuUserMsPerCall: { ours: 2.5, baseline: 12 }, cpuSystemMsPerCall: { ours: 1.5, baseline: 4 } });
    expect(c.rates[2]).toMatchObject({ cpuMsPerCall: { ours: 2.5, baseline: null }, cpuUserMsPerCall: { ours: 7, baseline: null }, failed: { ours: 0, baseline: null } });
    expect(c.halfKneeCpuMsPerCall).toEqual({ ours: 3.5, baseline: 10 });
    expect(c.halfKneeCpuUserMsPerCall).toEqual({ ours: 2.1, baseline: 7 });
    expect(c.halfKneeCpuSystemMsPerCall).toEqual({ ours: 1.4, baseline: 3 });
    expect(c.knee).toEqual({ ours: 150, baseline: 50 });
    expect(c.kneeSecondRule).toEqual({ ours: 150, baseline: 100 });
    expect(c.postP99Ms).toEqual({ ours: 12, baseline: 180 });
    expect(c.connectedP99Ms).toEqual({ ours: 80, baseline: 280 });
    expect(c.halfKneeRate).toEqual({ ours: 75, baseline: 25 });
    expect(c.ratios.baseline).toEqual({
      cpuMsPerCall: [
        { rate: 50, ratio: 0.25 },
        { rate: 100, ratio: 0.25 },
      ],
      knee: 3,
      kneeSecondRule: 1.5,
    });
    const table = formatComparison(c);
    expect(table).toContain('baseline 4878e05');
    expect(table).toMatch(/knee \(≤ 0\.1 % failed\)\s+150\s+50/);
    expect(table).toMatch(/\n {2}150\s+2\.5\s+—/);
    // user ms/call, system ms/call and the system share, ours then baseline
    expect(table).toContain('system ms/call');
    expect(table).toMatch(/\n {2}50\s+2\.5\s+12\s+1\.5\s+4\s+37\.5\s+25\n/);
    expect(table).toMatch(/\n {2}½ knee\s+2\.1\s+7\s+1\.4\s+3\s+40\s+30\n/);
    expect(table).toMatch(/CPU ms\/call at half knee\s+3\.5\s+10/);
  });

  it('a series without a latency phase reports null, not zero', () => {
    const c = buildComparison(
      [
        { label: 'ours', processes: 1, steps: [step(50)] },
        { label: 'ours-2p', processes: 2, steps: [] },
      ],
      null,
    );
    expect(c.baselineRef).toBeNull();
    expect(c.postP99Ms).toEqual({ ours: null, 'ours-2p': null });
    expect(c.processes).toEqual({ ours: 1, 'ours-2p': 2 });
    expect(c.knee['ours-2p']).toBe(0);
    expect(c.ratios['ours-2p']?.knee).toBeNull();
  });
});

describe('bench baseline build: dependencies', () => {
  it('reads the major version of a range', () => {
    expect(rangeMajor('^11.2.0')).toBe(11);
    expect(rangeMajor('~5.9')).toBe(5);
    expect(rangeMajor('>=2.1.0')).toBe(2);
    expect(rangeMajor('latest')).toBeNull();
  });

  it('asks for npm ci when a runtime dependency is absent or of another major version', () => {
    const installed: Record<string, string> = { ioredis: '5.11.1', pino: '9.14.0' };
    const have = (n: string): string | undefined => installed[n];
    expect(missingDependencies({ ioredis: '^5.4.0', pino: '^9.0.0' }, have)).toEqual([]);
    expect(missingDependencies({ ioredis: '^5.4.0', pino: '^8.0.0', 'date-fns': '^4.4.0' }, have)).toEqual(['pino', 'date-fns']);
    expect(missingDependencies({ pino: 'latest' }, have)).toEqual([]);
  });
});
