/**
 * Pure parts of a comparison run (`--baseline <ref>`, `--processes N`): the two knee rules, the
 * interleaving order, the knee of a series of rate steps and the `comparison` object of the
 * results JSON. Several builds / process counts ("variants": `ours`, `baseline`, `ours-2p` …) are
 * measured in the same run, so only their ratios are read: this machine varies 3× day to day.
 */
import type { CpuSplit } from './procfs';
import { percentile, round } from './stats';

/** What one rate step of one variant measured (a subset of run.ts's CallPhase). */
export interface StepFigures {
  rate: number;
  scheduled: number;
  ok: number;
  failed: number;
  /** completed calls per second over the span in which the generator actually started them */
  achievedCps: number;
  /** p99 of the generator's lag between the scheduled and the actual start of each call, ms */
  startLagP99Ms: number;
  gatewayCpuMsPerCall: number | null;
  /** the user-mode part of gatewayCpuMsPerCall (our JavaScript, V8, GC, libuv) */
  cpuUserMsPerCall: number | null;
  /** the kernel-mode part of gatewayCpuMsPerCall (the syscalls: sockets, epoll, files) */
  cpuSystemMsPerCall: number | null;
  postMs: { p99: number | null };
  answerToConnectedMs: { p99: number | null };
}

export type KneeRule = (s: StepFigures) => boolean;

/** The benchmark's own rule (docs/performance.md): ≤ 0.1 % of the calls fail, at least one completes. */
export const firstRule: KneeRule = (s) => s.ok > 0 && s.scheduled > 0 && s.failed / s.scheduled <= 0.001;

/**
 * The second rule, the one other gateways are measured with: ≤ 0.5 % failures, ≥ 97 % of the
 * target rate reached, and the load generator's start lag p99 ≤ 1 s (else the offered rate was not
 * really offered).
 */
export const secondRule: KneeRule = (s) => s.ok > 0 && s.scheduled > 0 && s.failed / s.scheduled <= 0.005 && s.achievedCps >= 0.97 * s.rate && s.startLagP99Ms <= 1000;

/** Highest rate of the leading run of steps (in the order run) that pass `rule`; 0 if the first fails. */
export function kneeOf(steps: readonly StepFigures[], rule: KneeRule): number {
  let knee = 0;
  for (const s of steps) {
    if (!rule(s)) break;
    knee = Math.max(knee, s.rate);
  }
  return knee;
}

/** True while a step series can still raise the knee under at least one of the rules. */
export function stillStepping(steps: readonly StepFigures[]): boolean {
  return steps.every(firstRule) || steps.every(secondRule);
}

/** The variants in the order they run at step `k`: rotated by one each step, so machine drift cancels. */
export function rotate<T>(list: readonly T[], k: number): T[] {
  const n = list.length;
  if (n === 0) return [];
  const s = ((k % n) + n) % n;
  return [...list.slice(s), ...list.slice(0, s)];
}

/**
 * Completed calls per second over the span in which they were started: from the first actual start
 * to the last, plus one schedule interval (so `count` calls started exactly on time at `rate` give
 * exactly `rate`).
 */
export function achievedCps(ok: number, firstStartMs: number, lastStartMs: number, rate: number): number {
  if (ok <= 0 || rate <= 0) return 0;
  const spanS = Math.max(0, lastStartMs - firstStartMs) / 1000 + 1 / rate;
  return round(ok / spanS, 1) ?? 0;
}

/** p99 (nearest rank) of the generator's start lags, ms; 0 when nothing started. */
export function lagP99Ms(lags: readonly number[]): number {
  return (
    round(
      percentile(
        [...lags].sort((a, b) => a - b),
        0.99,
      ),
      1,
    ) ?? 0
  );
}

/**
 * CPU per completed call between two readings of a process (group): the total and its user-mode
 * and kernel-mode parts, ms, rounded alike (so user + system can differ from the total by 0.001).
 * All null when no call completed or a reading is missing.
 */
export function cpuPerCall(before: CpuSplit, after: CpuSplit, calls: number): { total: number | null; user: number | null; system: number | null } {
  const user = after.userMs - before.userMs;
  const system = after.systemMs - before.systemMs;
  if (calls <= 0 || !Number.isFinite(user) || !Number.isFinite(system)) return { total: null, user: null, system: null };
  return { total: round((user + system) / calls, 3), user: round(user / calls, 3), system: round(system / calls, 3) };
}

/** The kernel's share of the CPU per call, % (null when either part is unknown or both are 0). */
export function systemSharePct(user: number | null | undefined, system: number | null | undefined): number | null {
  if (user == null || system == null || user + system <= 0) return null;
  return round((100 * system) / (user + system), 1);
}

export type ByVariant<T> = Record<string, T>;

export interface ComparisonRate {
  rate: number;
  /** the order the variants ran in at this step */
  order: string[];
  cpuMsPerCall: ByVariant<number | null>;
  /** user-mode and kernel-mode parts of cpuMsPerCall */
  cpuUserMsPerCall: ByVariant<number | null>;
  cpuSystemMsPerCall: ByVariant<number | null>;
  postP99Ms: ByVariant<number | null>;
  connectedP99Ms: ByVariant<number | null>;
  failed: ByVariant<number | null>;
  achievedCps: ByVariant<number | null>;
  startLagP99Ms: ByVariant<number | null>;
}

export interface Comparison {
  baselineRef: string | null;
  baselineSha: string | null;
  /** gateway processes of each variant */
  processes: ByVariant<number>;
  variants: string[];
  rates: ComparisonRate[];
  /** knee under the benchmark's rule (≤ 0.1 % failures) */
  knee: ByVariant<number>;
  /** knee under the second rule (≤ 0.5 % failures, ≥ 97 % of the rate, start-lag p99 ≤ 1 s) */
  kneeSecondRule: ByVariant<number>;
  /** the rate of each variant's latency phase: half its own knee */
  halfKneeRate: ByVariant<number | null>;
  postP99Ms: ByVariant<number | null>;
  connectedP99Ms: ByVariant<number | null>;
  /** CPU per call in the latency phase (half the own knee): total, user mode, kernel mode */
  halfKneeCpuMsPerCall: ByVariant<number | null>;
  halfKneeCpuUserMsPerCall: ByVariant<number | null>;
  halfKneeCpuSystemMsPerCall: ByVariant<number | null>;
  /** `ours` ÷ each other variant, at the rates both ran (CPU per call) and for the knees */
  ratios: ByVariant<{ cpuMsPerCall: Array<{ rate: number; ratio: number | null }>; knee: number | null; kneeSecondRule: number | null }>;
}

export interface VariantSeries {
  label: string;
  processes: number;
  /** knee steps in the order they ran, with the order position of this variant at each */
  steps: ReadonlyArray<StepFigures & { order?: string[] }>;
  /** the latency phase at half the knee (undefined if it did not run) */
  halfKnee?: StepFigures;
}

const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => (a == null || b == null || b === 0 ? null : round(a / b, 3));

/** Builds the `comparison` object of the results JSON; the first series is `ours`. */
export function buildComparison(series: readonly VariantSeries[], baseline: { ref: string; sha: string } | null): Comparison {
  const labels = series.map((s) => s.label);
  const rates = [...new Set(series.flatMap((s) => s.steps.map((x) => x.rate)))].sort((a, b) => a - b);
  const per = <T>(f: (s: VariantSeries) => T): ByVariant<T> => Object.fromEntries(series.map((s) => [s.label, f(s)]));
  const at = (s: VariantSeries, rate: number): (StepFigures & { order?: string[] }) | undefined => s.steps.find((x) => x.rate === rate);
  const rows: ComparisonRate[] = rates.map((rate) => ({
    rate,
    order: series.map((s) => at(s, rate)?.order).find((o) => o !== undefined) ?? labels,
    cpuMsPerCall: per((s) => at(s, rate)?.gatewayCpuMsPerCall ?? null),
    cpuUserMsPerCall: per((s) => at(s, rate)?.cpuUserMsPerCall ?? null),
    cpuSystemMsPerCall: per((s) => at(s, rate)?.cpuSystemMsPerCall ?? null),
    postP99Ms: per((s) => at(s, rate)?.postMs.p99 ?? null),
    connectedP99Ms: per((s) => at(s, rate)?.answerToConnectedMs.p99 ?? null),
    failed: per((s) => at(s, rate)?.failed ?? null),
    achievedCps: per((s) => at(s, rate)?.achievedCps ?? null),
    startLagP99Ms: per((s) => at(s, rate)?.startLagP99Ms ?? null),
  }));
  const knee = per((s) => kneeOf(s.steps, firstRule));
  const kneeSecondRule = per((s) => kneeOf(s.steps, secondRule));
  const ours = series[0];
  const ratios: Comparison['ratios'] = {};
  for (const s of series.slice(1)) {
    ratios[s.label] = {
      cpuMsPerCall: rates.filter((r) => ours && at(ours, r) && at(s, r)).map((r) => ({ rate: r, ratio: ours ? ratio(at(ours, r)?.gatewayCpuMsPerCall, at(s, r)?.gatewayCpuMsPerCall) : null })),
      knee: ours ? ratio(knee[ours.label], knee[s.label]) : null,
      kneeSecondRule: ours ? ratio(kneeSecondRule[ours.label], kneeSecondRule[s.label]) : null,
    };
  }
  return {
    baselineRef: baseline?.ref ?? null,
    baselineSha: baseline?.sha ?? null,
    processes: per((s) => s.processes),
    variants: labels,
    rates: rows,
    knee,
    kneeSecondRule,
    halfKneeRate: per((s) => s.halfKnee?.rate ?? null),
    postP99Ms: per((s) => s.halfKnee?.postMs.p99 ?? null),
    connectedP99Ms: per((s) => s.halfKnee?.answerToConnectedMs.p99 ?? null),
    halfKneeCpuMsPerCall: per((s) => s.halfKnee?.gatewayCpuMsPerCall ?? null),
    halfKneeCpuUserMsPerCall: per((s) => s.halfKnee?.cpuUserMsPerCall ?? null),
    halfKneeCpuSystemMsPerCall: per((s) => s.halfKnee?.cpuSystemMsPerCall ?? null),
    ratios,
  };
}

const cell = (v: number | null | undefined, w: number): string => (v == null ? '—' : String(v)).padStart(w);

/** The side-by-side table printed at the end of a comparison run. */
export function formatComparison(c: Comparison): string {
  const w = Math.max(9, ...c.variants.map((v) => v.length + 1));
  const cols = (f: (v: string) => number | null | undefined): string => c.variants.map((v) => cell(f(v), w)).join('');
  const head = c.variants.map((v) => v.padStart(w)).join('');
  const out: string[] = [];
  out.push(`  comparison${c.baselineRef ? ` — baseline ${c.baselineRef} (${(c.baselineSha ?? '').slice(0, 12)})` : ''}; processes ${c.variants.map((v) => `${v}=${c.processes[v]}`).join(', ')}`);
  out.push(`  ${'rate/s'.padEnd(8)}${'CPU ms/call'.padEnd(w * c.variants.length + 2)}${'POST p99 ms'.padEnd(w * c.variants.length + 2)}failed`);
  out.push(`  ${''.padEnd(8)}${head}  ${head}  ${head}`);
  for (const r of c.rates) out.push(`  ${String(r.rate).padEnd(8)}${cols((v) => r.cpuMsPerCall[v])}  ${cols((v) => r.postP99Ms[v])}  ${cols((v) => r.failed[v])}`);
  out.push('');
  // how much of the CPU per call is the kernel (syscalls) rather than the process's own code
  out.push(`  ${'rate/s'.padEnd(8)}${'user ms/call'.padEnd(w * c.variants.length + 2)}${'system ms/call'.padEnd(w * c.variants.length + 2)}system %`);
  out.push(`  ${''.padEnd(8)}${head}  ${head}  ${head}`);
  const split = (label: string, user: ByVariant<number | null>, system: ByVariant<number | null>): string =>
    `  ${label.padEnd(8)}${cols((v) => user[v])}  ${cols((v) => system[v])}  ${cols((v) => systemSharePct(user[v], system[v]))}`;
  for (const r of c.rates) out.push(split(String(r.rate), r.cpuUserMsPerCall, r.cpuSystemMsPerCall));
  out.push(split('½ knee', c.halfKneeCpuUserMsPerCall, c.halfKneeCpuSystemMsPerCall));
  out.push('');
  out.push(`  ${''.padEnd(34)}${head}`);
  out.push(`  ${'knee (≤ 0.1 % failed)'.padEnd(34)}${cols((v) => c.knee[v])}`);
  out.push(`  ${'knee (≤ 0.5 %, ≥ 97 %, lag ≤ 1 s)'.padEnd(34)}${cols((v) => c.kneeSecondRule[v])}`);
  out.push(`  ${'half-knee rate'.padEnd(34)}${cols((v) => c.halfKneeRate[v])}`);
  out.push(`  ${'POST p99 ms at half knee'.padEnd(34)}${cols((v) => c.postP99Ms[v])}`);
  out.push(`  ${'Connected p99 ms at half knee'.padEnd(34)}${cols((v) => c.connectedP99Ms[v])}`);
  out.push(`  ${'CPU ms/call at half knee'.padEnd(34)}${cols((v) => c.halfKneeCpuMsPerCall[v])}`);
  for (const [v, r] of Object.entries(c.ratios)) {
    out.push(`  ours ÷ ${v}: knee ${r.knee ?? '—'} (second rule ${r.kneeSecondRule ?? '—'}); CPU per call ${r.cpuMsPerCall.map((x) => `${x.rate}/s ${x.ratio ?? '—'}`).join(', ') || '—'}`);
  }
  return `${out.join('\n')}\n`;
}
