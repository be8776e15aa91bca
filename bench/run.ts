/**
 * `npm run bench` — the gateway's capacity, cost and latency, measured the same way every time
 * (issue 7). `npm run bench -- --smoke` runs every phase once with tiny numbers (CI).
 *
 * Options: --smoke, --cpu-prof (CPU profile of the gateway at 50 % of the knee, summary printed
 * and the .cpuprofile kept under bench/.run/), --log-level <pino level> (default info),
 * --out <file.json> (default bench/results/<date>.json; smoke: bench/.run/smoke.json),
 * --baseline <git-ref> (also build that ref in a temporary worktree and measure it in the same run,
 * interleaved with ours: knee steps and latency at half the knee; `comparison` in the results),
 * --processes <N> (also measure N gateway processes of ours on this host, sharing Redis, beside one),
 * --node-flags "<flags>" (Node/V8 options of our gateway processes, not the baseline's: with
 * `--baseline HEAD` it measures a runtime option against the same code in one run).
 *
 * Phases: lab (Redis, Kamailio, SIPp UAS from test/lab + test/scenarios) → SIPp direct ceiling →
 * gateway (separate process, Redis store) → registrations (1k at 500/s, then up to 10k) with
 * memory → subscriptions → store round trips per call (MONITOR) → rate steps to the knee →
 * latency at 50 % of the knee (+ optional profile) → concurrent held calls (memory, round trips
 * again) → sustained calls (RSS over calls) → after the calls stop (RSS and heap at +0, +35 and
 * +70 s) → report. CPU per call is recorded as a total and as its user-mode and kernel-mode parts.
 * With --baseline / --processes the other variants (own gateway processes, Redis key prefix, SIP
 * ports and virtual apps; shared lab and sink) are started after the subscriptions, and the knee
 * steps and the latency phase run every variant at each rate, the order rotated by one each step
 * so the machine's drift cancels.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { createTestIdp } from '../test/support/auth';
import { startKamailio, startRedis, startSippUas, type KamailioInstance, type RedisInstance, type SippUas } from '../test/support/lab';
import { makeLabDir, REPO_ROOT } from '../test/support/proc';
import { afterStopFigures, afterStopOffsetsS, RSS_FLAT_TOLERANCE_PCT, type AfterStopSample } from './lib/after-stop';
import { prepareBaseline, type BaselineBuild } from './lib/baseline';
import { achievedCps, buildComparison, cpuPerCall, firstRule, formatComparison, kneeOf, rotate, secondRule, stillStepping, systemSharePct, type Comparison } from './lib/compare';
import { BENCH_RUN_DIR, gatewayGroup, profileByArea, profileTop, startGatewayProcess, transpileGateway, type GatewayProcess } from './lib/gateway-process';
import {
  CALLEE,
  EventSink,
  fullCall,
  GatewayClient,
  makeApps,
  openLoop,
  registerApp,
  subscribeApp,
  type CallTiming,
  type OpenLoopResult,
  type VirtualApp,
  writeLoadTestCredentials,
} from './lib/loadgen';
import { cpuMs, groupCpuMs, machineInfo, udpRcvbufErrors } from './lib/procfs';
import { commandStats, diffStats, monitorRoundTrips, redisUsedMemory, type MonitorCount } from './lib/redis-stats';
import { sippDirect, type SippRun } from './lib/sipp-direct';
import { errMsg, round, sleep, summarise } from './lib/stats';

// ------------------------------------------------------------------------------------ options

const argv = process.argv.slice(2);
const SMOKE = argv.includes('--smoke');
const CPU_PROF = argv.includes('--cpu-prof');
const argVal = (k: string): string | undefined => {
  const i = argv.indexOf(k);
  return i >= 0 ? argv[i + 1] : undefined;
};
/** `--cpu-prof-rate <calls/s>`: profile at this rate instead of half the knee (e.g. 100, the rate CPU per call is judged at). */
const CPU_PROF_RATE = argVal('--cpu-prof-rate') === undefined ? undefined : Number(argVal('--cpu-prof-rate'));
if (CPU_PROF_RATE !== undefined && !(Number.isInteger(CPU_PROF_RATE) && CPU_PROF_RATE > 0)) {
  process.stderr.write('--cpu-prof-rate: calls per second, a positive integer\n');
  process.exit(2);
}
const LOG_LEVEL = argVal('--log-level') ?? 'info';
const BASELINE_REF = argVal('--baseline');
if (argv.includes('--baseline') && (!BASELINE_REF || BASELINE_REF.startsWith('--'))) {
  process.stderr.write('--baseline: a git ref is needed (e.g. --baseline 4878e05)\n');
  process.exit(2);
}
/** `--node-flags "<flags>"`: Node/V8 options of our gateway processes (not the baseline's), e.g. `--max-semi-space-size=64`. */
const NODE_FLAGS = (argVal('--node-flags') ?? '').split(/\s+/).filter((f) => f !== '');
if (NODE_FLAGS.some((f) => !f.startsWith('--'))) {
  process.stderr.write('--node-flags: Node options, each starting with -- (quote them as one argument)\n');
  process.exit(2);
}
const PROCESSES = Number(argVal('--processes') ?? '1');
if (!Number.isInteger(PROCESSES) || PROCESSES < 1 || PROCESSES > 16) {
  process.stderr.write('--processes: an integer from 1 to 16\n');
  process.exit(2);
}
/** how many builds / process counts are measured side by side */
const VARIANTS = 1 + (BASELINE_REF ? 1 : 0) + (PROCESSES > 1 ? 1 : 0);

interface Plan {
  regFirst: number; // registered at regRate (the target figure), memory at this count
  regRate: number;
  regTotal: number; // then up to this count at regRate2, memory again
  regRate2: number;
  callApps: number;
  ringMs: number;
  holdMs: number;
  steps: number[];
  stepS: number;
  latencyS: number;
  profileS: number;
  heldCalls: number;
  heldRate: number;
  heldMs: number;
  probeCalls: number;
  sustainMaxS: number;
  /** seconds after the calls stop at which RSS and heap are read */
  afterStopAtS: number[];
  sipp: number[];
  sippS: number;
  stepTimeoutMs: number;
  budgetS: number;
}

const PLAN: Plan = SMOKE
  ? {
      regFirst: 10,
      regRate: 20,
      regTotal: 30,
      regRate2: 40,
      callApps: 5,
      ringMs: 10,
      holdMs: 100,
      steps: [5, 10],
      stepS: 2,
      latencyS: 2,
      profileS: 2,
      heldCalls: 10,
      heldRate: 10,
      heldMs: 2000,
      probeCalls: 5,
      sustainMaxS: 2,
      afterStopAtS: afterStopOffsetsS(true),
      sipp: [20],
      sippS: 2,
      stepTimeoutMs: 5000,
      budgetS: 120,
    }
  : {
      regFirst: 1000,
      regRate: 500,
      regTotal: 10000,
      regRate2: 1000,
      callApps: 200,
      ringMs: 10,
      holdMs: 1000,
      steps: [50, 100, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 1000],
      stepS: 8,
      latencyS: 15,
      profileS: 8,
      heldCalls: 1000,
      heldRate: 100,
      heldMs: 30000,
      probeCalls: 20,
      sustainMaxS: 60,
      afterStopAtS: afterStopOffsetsS(false),
      sipp: [250, 500, 1000, 2000, 3000],
      sippS: 4,
      stepTimeoutMs: 5000,
      budgetS: 290,
    };

/** Each extra variant adds three quarters of the single run's budget (it runs every knee step and the latency phase too). */
const CALLS_BUDGET_S = PLAN.budgetS * (1 + 0.75 * (VARIANTS - 1));
/** The phase after the calls stop mostly waits for its last reading: its time comes on top, so the call phases keep theirs. */
const AFTER_STOP_S = (PLAN.afterStopAtS[PLAN.afterStopAtS.length - 1] ?? 0) + (SMOKE ? 5 : 10);
const BUDGET_S = CALLS_BUDGET_S + AFTER_STOP_S;

// ------------------------------------------------------------------------------------ results

type PhaseStatus = 'ok' | 'failed' | 'skipped';
interface Phase {
  status: PhaseStatus;
  reason?: string;
  [k: string]: unknown;
}
const phases: Record<string, Phase> = {};
const T0 = performance.now();
const elapsedS = (): number => (performance.now() - T0) / 1000;
const log = (msg: string): void => {
  process.stdout.write(`[bench ${elapsedS().toFixed(1).padStart(6)}s] ${msg}\n`);
};

async function phase<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
  log(`phase ${name} …`);
  try {
    const v = await fn();
    phases[name] ??= { status: 'ok' };
    return v;
  } catch (e) {
    phases[name] = { ...(phases[name] ?? {}), status: 'failed', reason: errMsg(e) };
    log(`phase ${name} FAILED: ${errMsg(e)}`);
    return undefined;
  }
}

// --------------------------------------------------------------------------------- call phases

interface CallPhase {
  rate: number;
  seconds: number;
  scheduled: number;
  ok: number;
  failed: number;
  failureRate: number;
  okCps: number;
  pass: boolean;
  gatewayCpuMsPerCall: number | null;
  /** user-mode part of gatewayCpuMsPerCall (utime) */
  cpuUserMsPerCall: number | null;
  /** kernel-mode part of gatewayCpuMsPerCall (stime: the syscalls) */
  cpuSystemMsPerCall: number | null;
  storeCommandsPerCall: number | null;
  postMs: ReturnType<typeof summarise>;
  answerToConnectedMs: ReturnType<typeof summarise>;
  deleteMs: ReturnType<typeof summarise>;
  terminatedMs: ReturnType<typeof summarise>;
  generatorMaxLagMs: number;
  /** p99 of the generator's start lag (second knee rule: ≤ 1 s) */
  startLagP99Ms: number;
  /** completed calls per second over the span the generator started them in (second rule: ≥ 97 % of rate) */
  achievedCps: number;
  /** ≤ 0.5 % failures, ≥ 97 % of the rate reached, start-lag p99 ≤ 1 s */
  passSecondRule: boolean;
  variant: string;
  /** the order the variants ran in at this step (comparison runs) */
  order?: string[];
  udpRcvbufErrors: number;
  failures: Record<string, number>;
  rssAfter: number;
  /** CPU of every process over the phase, % of one core */
  cpuPct: Record<string, number | null>;
}

/** utime+stime (ms) of every process of the run, to see who saturates first. */
function cpuAll(ctx: Ctx, v: Variant): Record<string, number> {
  return {
    gateway: v.gw.cpuMs(),
    kamailio: ctx.kam.pid ? (groupCpuMs(ctx.kam.pid) ?? NaN) : NaN,
    redis: ctx.redis.pid ? (cpuMs(ctx.redis.pid) ?? NaN) : NaN,
    sippUas: ctx.uas.pid ? (cpuMs(ctx.uas.pid) ?? NaN) : NaN,
    loadGenerator: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  };
}

function cpuPct(a: Record<string, number>, b: Record<string, number>, wallMs: number): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const k of Object.keys(a)) out[k] = round((100 * ((b[k] ?? NaN) - (a[k] ?? NaN))) / wallMs, 1);
  return out;
}

let totalCalls = 0;
/** Every call the run started and how many of them failed (any phase): what a smoke run judges. */
const callTally = { scheduled: 0, failed: 0 };
/**
 * The store commands per full call the README states (14: 9 for the sessions and events of the call,
 * test/integration/store-round-trips.int-spec.ts and docs/performance.md, the POST's read of the
 * registration, and the two request-rate counters of each of the two REST requests), with a margin for
 * the measurement's noise (MONITOR counts minus the idle rate: ±1 run to run on one build).
 */
const MAX_ROUND_TRIPS_PER_CALL = 16;
let callCpuMs = 0;
const rssOverCalls: Array<{ calls: number; rssMiB: number; atS: number }> = [];

function timings(r: OpenLoopResult<CallTiming>, ringMs: number): Pick<CallPhase, 'postMs' | 'answerToConnectedMs' | 'deleteMs' | 'terminatedMs'> {
  return {
    postMs: summarise(r.ok.map((t) => t.post)),
    // conservative: from the scheduled POST (before the INVITE even left) to Connected at the sink,
    // minus the UAS's ring time; includes the POST, both Kamailio legs, 180/200 and event delivery
    answerToConnectedMs: summarise(r.ok.map((t) => t.connected - ringMs)),
    deleteMs: summarise(r.ok.map((t) => t.del)),
    terminatedMs: summarise(r.ok.map((t) => t.terminated)),
  };
}

async function runCalls(ctx: Ctx, rate: number, seconds: number, v: Variant = mainVariant(ctx)): Promise<CallPhase> {
  const holdMs = PLAN.holdMs;
  const count = Math.max(1, Math.round(rate * seconds));
  const cpu0 = v.gw.cpuSplit();
  const all0 = cpuAll(ctx, v);
  const w0 = performance.now();
  const cs0 = await commandStats(ctx.redisClient);
  const udp0 = udpRcvbufErrors();
  const apps = v.callApps;
  const r = await openLoop(
    rate,
    count,
    (i, at) => {
      const app = apps[i % apps.length] as VirtualApp;
      return fullCall(clientOf(v, app), ctx.sink, app, at, { holdMs, stepTimeoutMs: PLAN.stepTimeoutMs });
    },
    holdMs + 4 * PLAN.stepTimeoutMs + 1000,
  );
  const cpu1 = v.gw.cpuSplit();
  const cpu = cpu1.userMs + cpu1.systemMs - (cpu0.userMs + cpu0.systemMs);
  const perCall = cpuPerCall(cpu0, cpu1, r.ok.length);
  const pct = cpuPct(all0, cpuAll(ctx, v), performance.now() - w0);
  const cs = diffStats(cs0, await commandStats(ctx.redisClient));
  const ok = r.ok.length;
  if (v.judged) {
    callTally.scheduled += count;
    callTally.failed += r.failed;
  }
  const rss = v.gw.rss();
  if (v.main) {
    totalCalls += ok;
    callCpuMs += cpu;
    rssOverCalls.push({ calls: totalCalls, rssMiB: round(rss / 1048576, 1) ?? 0, atS: round(elapsedS(), 1) ?? 0 });
  }
  const failureRate = r.failed / count;
  const figures = {
    rate,
    scheduled: count,
    ok,
    failed: r.failed,
    achievedCps: achievedCps(ok, r.firstStartAt, r.lastStartAt, rate),
    startLagP99Ms: r.startLagP99Ms,
    gatewayCpuMsPerCall: perCall.total,
    cpuUserMsPerCall: perCall.user,
    cpuSystemMsPerCall: perCall.system,
    ...timings(r, PLAN.ringMs),
  };
  return {
    ...figures,
    seconds,
    failureRate: round(failureRate, 5) ?? 0,
    okCps: round(ok / seconds, 1) ?? 0,
    pass: firstRule(figures),
    storeCommandsPerCall: ok ? round(cs.total / ok, 1) : null,
    generatorMaxLagMs: round(r.maxStartLagMs, 1) ?? 0,
    passSecondRule: secondRule(figures),
    variant: v.label,
    udpRcvbufErrors: udpRcvbufErrors() - udp0,
    failures: r.failures,
    rssAfter: rss,
    cpuPct: pct,
  };
}

interface MemSnap {
  label: string;
  count: number;
  heapAfterGc: number | null;
  metricsHeapUsed: number | null;
  rss: number;
  redisUsedMemory: number;
}

async function memSnap(ctx: Ctx, label: string, count: number): Promise<MemSnap> {
  const heap = await ctx.gw.heapAfterGc();
  const m = await ctx.gw.metrics();
  return { label, count, heapAfterGc: heap?.usedAfterGc ?? null, metricsHeapUsed: m?.heapUsed ?? null, rss: ctx.gw.rss(), redisUsedMemory: await redisUsedMemory(ctx.redisClient) };
}

function perItem(a: MemSnap, b: MemSnap, n: number): { heapBytes: number | null; metricsHeapBytes: number | null; rssBytes: number | null; redisBytes: number | null } {
  const d = (x: number | null, y: number | null): number | null => (x === null || y === null || n <= 0 ? null : Math.round((y - x) / n));
  return { heapBytes: d(a.heapAfterGc, b.heapAfterGc), metricsHeapBytes: d(a.metricsHeapUsed, b.metricsHeapUsed), rssBytes: d(a.rss, b.rss), redisBytes: d(a.redisUsedMemory, b.redisUsedMemory) };
}

// ------------------------------------------------------------------------------------ context

interface Ctx {
  redis: RedisInstance;
  redisClient: Redis;
  kam: KamailioInstance;
  uas: SippUas;
  gw: GatewayProcess;
  client: GatewayClient;
  sink: EventSink;
  apps: VirtualApp[];
  callApps: VirtualApp[];
}

/** One build / process count measured in the run: `ours` (the main one), `baseline`, `ours-<N>p`. */
interface Variant {
  label: string;
  processes: number;
  /** all of its processes (CPU and RSS summed) */
  gw: GatewayProcess;
  /** one HTTP client per process; app.gateway picks it */
  clients: GatewayClient[];
  callApps: VirtualApp[];
  /** its calls count for the correctness verdict (ours, in any process count) */
  judged: boolean;
  /** the variant every other phase measures (memory, round trips, sustained) */
  main: boolean;
}

function mainVariant(ctx: Ctx): Variant {
  return { label: 'ours', processes: 1, gw: ctx.gw, clients: [ctx.client], callApps: ctx.callApps, judged: true, main: true };
}

function clientOf(v: Variant, app: VirtualApp): GatewayClient {
  const c = v.clients[(app.gateway ?? 0) % v.clients.length];
  if (!c) throw new Error(`${v.label}: no client`);
  return c;
}

/** First index of the load-test subscribers of the k-th extra variant (k ≥ 1): from the top of 0..9999. */
const variantAppOffset = (k: number): number => 10000 - PLAN.callApps * k;

async function probeRoundTrips(ctx: Ctx, label: string): Promise<{ perCall: number | null; baselinePerS: number; calls: number; count: MonitorCount; luaPerCall: number | null }> {
  // background traffic (delivery worker polls, refresher) with no calls, then the probe calls
  const idle = await monitorRoundTrips(ctx.redisClient, () => sleep(SMOKE ? 1000 : 2000));
  const baselinePerS = idle.count.roundTrips / (idle.count.ms / 1000);
  const rate = SMOKE ? 5 : 10;
  const { result, count } = await monitorRoundTrips(ctx.redisClient, async () => {
    const r = await openLoop(
      rate,
      PLAN.probeCalls,
      (i, at) => fullCall(ctx.client, ctx.sink, ctx.callApps[i % ctx.callApps.length] as VirtualApp, at, { holdMs: 100, stepTimeoutMs: PLAN.stepTimeoutMs }),
      25000,
    );
    await sleep(600); // acks of the last deliveries
    return r;
  });
  const calls = result.ok.length;
  totalCalls += calls;
  callTally.scheduled += PLAN.probeCalls;
  callTally.failed += result.failed;
  if (result.failed > 0) throw new Error(`${label}: ${result.failed} of ${PLAN.probeCalls} probe calls failed: ${JSON.stringify(result.failures)}`);
  const net = count.roundTrips - baselinePerS * (count.ms / 1000);
  return { perCall: calls ? round(net / calls, 1) : null, baselinePerS: round(baselinePerS, 1) ?? 0, calls, count, luaPerCall: calls ? round(count.luaCommands / calls, 1) : null };
}

// ------------------------------------------------------------------------------------ main

async function main(): Promise<number> {
  const started = new Date();
  mkdirSync(BENCH_RUN_DIR, { recursive: true });
  const stoppers: Array<() => Promise<void>> = [];
  let harnessError: string | undefined;
  const result: Record<string, unknown> = {
    startedAt: started.toISOString(),
    mode: SMOKE ? 'smoke' : 'full',
    plan: PLAN,
    machine: machineInfo(),
    logLevel: LOG_LEVEL,
    ...(NODE_FLAGS.length > 0 && { nodeFlags: NODE_FLAGS }),
  };
  let ctx: Ctx | undefined;
  let comparison: Comparison | undefined;
  try {
    // ---------------------------------------------------------------- lab
    const tr = transpileGateway();
    log(`gateway transpiled: ${tr.files} files in ${tr.ms} ms`);
    let base: BaselineBuild | undefined;
    if (BASELINE_REF) {
      const t0 = Date.now();
      base = prepareBaseline(BASELINE_REF, log);
      const b = base;
      stoppers.push(() => Promise.resolve(b.remove()));
      result.baseline = { ref: b.ref, sha: b.sha, worktree: b.dir, files: b.files, npmCi: b.npmCi };
      log(`baseline ${b.ref} = ${b.sha.slice(0, 12)}: worktree ${b.dir}, ${b.files} files transpiled in ${Date.now() - t0} ms${b.npmCi ? ' (own npm ci)' : ''}`);
    }
    result.processes = PROCESSES;
    const uas = await startSippUas('uas-answer-200', { ringMs: PLAN.ringMs, trace: false, name: 'bench-answer', extraArgs: ['-buff_size', '4194304'] });
    stoppers.push(() => uas.stop());
    const kam = await startKamailio({ uasPort: uas.port, shmMb: SMOKE ? 256 : 1024, children: 4 });
    stoppers.push(() => kam.stop());
    const redis = await startRedis();
    stoppers.push(() => redis.stop());
    const redisClient = redis.client();
    log(`lab: redis ${redis.port} (pid ${redis.pid}), kamailio ${kam.port} (pid ${kam.pid}), uas ${uas.port} (pid ${uas.pid})`);

    // ---------------------------------------------------------------- SIPp ceiling (gateway not yet started)
    const sippRuns: SippRun[] = [];
    await phase('sippDirect', async () => {
      for (const rate of PLAN.sipp) {
        const r = await sippDirect({ uasPort: uas.port, rate, seconds: PLAN.sippS, holdMs: PLAN.holdMs, callee: CALLEE });
        sippRuns.push(r);
        log(`  sipp direct ${rate}/s: ok ${r.ok} failed ${r.failed} (${r.okCps}/s), UAC ${r.uacCpuMsPerCall} ms CPU/call`);
        if (!r.pass) break;
      }
      const best = sippRuns.filter((r) => r.pass).pop();
      if (!best) throw new Error(`SIPp direct failed even at ${PLAN.sipp[0]}/s`);
      phases.sippDirect = { status: 'ok', kneeCps: best.rate, capped: best === sippRuns[sippRuns.length - 1], uacCpuMsPerCall: best.uacCpuMsPerCall, runs: sippRuns };
    });

    // ---------------------------------------------------------------- gateway
    const idp = await createTestIdp({ dir: makeLabDir('bench-idp') });
    const gwDir = makeLabDir('bench-gateway');
    const subscriberIdx = [...Array(PLAN.regTotal).keys()];
    for (let k = 1; k < VARIANTS; k++) for (let j = 0; j < PLAN.callApps; j++) subscriberIdx.push(variantAppOffset(k) + j);
    const credFile = writeLoadTestCredentials(gwDir, new Set(subscriberIdx));
    const baseEnv: Record<string, string> = {
      LOG_LEVEL,
      AUTH_JWKS_URL: idp.jwksUrl,
      AUTH_ISSUER: idp.issuer,
      AUTH_AUDIENCE: idp.audience,
      SIP_OUTBOUND_PROXY: kam.outboundProxy,
      SIP_DOMAIN: kam.domain,
      SIP_CREDENTIALS_FILE: credFile,
      EVENTS_ALLOW_PRIVATE_SINKS: 'true',
      REDIS_URL: redis.url,
      // every virtual app calls from 127.0.0.1: the per-address limit (1 200/min by default) would
      // refuse a full run's load; the limits stay on (the per-token counter in Redis and the per-address
      // one in memory are part of the cost per call)
      RATE_LIMIT_PER_ADDRESS: '1000000',
      RATE_LIMIT_PER_TOKEN: '100000',
    };
    const gw = await startGatewayProcess({ mainJs: tr.mainJs, dir: gwDir, env: { ...baseEnv, REDIS_KEY_PREFIX: 'bench:' }, nodeFlags: NODE_FLAGS });
    stoppers.unshift(() => gw.stop());
    log(`gateway pid ${gw.pid} http ${gw.httpPort} sip ${gw.sipPort} (log ${gw.logFile})`);
    const client = new GatewayClient(gw.baseUrl, 64);
    stoppers.unshift(() => client.close());
    const sink = new EventSink();
    await sink.start();
    stoppers.unshift(() => sink.stop());
    const apps = await makeApps(idp, PLAN.regTotal);
    /** Starts another variant's processes (own key prefix, ports and apps), registers, subscribes and warms its apps. */
    const startVariant = async (o: { label: string; mainJs: string; processes: number; keyPrefix: string; judged: boolean; appOffset: number }): Promise<Variant> => {
      const procs: GatewayProcess[] = [];
      for (let k = 0; k < o.processes; k++) {
        const p = await startGatewayProcess({
          mainJs: o.mainJs,
          dir: makeLabDir(`bench-${o.label}-${k}`),
          env: { ...baseEnv, REDIS_KEY_PREFIX: o.keyPrefix },
          ...(o.label !== 'baseline' && { nodeFlags: NODE_FLAGS }),
        });
        stoppers.unshift(() => p.stop());
        procs.push(p);
        log(`${o.label}: gateway pid ${p.pid} http ${p.httpPort} sip ${p.sipPort} (log ${p.logFile})`);
      }
      const clients = procs.map((p) => new GatewayClient(p.baseUrl, 64));
      for (const cl of clients) stoppers.unshift(() => cl.close());
      // apps spread over the processes round-robin; each app keeps talking to the one it registered with
      const vApps = (await makeApps(idp, PLAN.callApps, o.appOffset)).map((a, j) => ({ ...a, gateway: j % o.processes }));
      const v: Variant = { label: o.label, processes: o.processes, gw: gatewayGroup(procs), clients, callApps: vApps, judged: o.judged, main: false };
      const reg = await openLoop(100, vApps.length, (i) => registerApp(clientOf(v, vApps[i] as VirtualApp), vApps[i] as VirtualApp), 30000);
      if (reg.failed > 0) throw new Error(`${o.label}: ${reg.failed} registrations failed: ${JSON.stringify(reg.failures).slice(0, 300)}`);
      const sub = await openLoop(100, vApps.length, (i) => subscribeApp(clientOf(v, vApps[i] as VirtualApp), sink, vApps[i] as VirtualApp), 20000);
      if (sub.failed > 0) throw new Error(`${o.label}: ${sub.failed} subscriptions failed: ${JSON.stringify(sub.failures).slice(0, 300)}`);
      // warm-up (JIT, connections), as ours was warmed by its registrations and probes
      const w = await runCalls(ctx as Ctx, SMOKE ? 2 : 20, SMOKE ? 1 : 3, v);
      if (!w.pass) throw new Error(`${o.label}: warm-up calls failed: ${JSON.stringify(w.failures).slice(0, 300)}`);
      return v;
    };
    ctx = { redis, redisClient, kam, uas, gw, client, sink, apps, callApps: apps.slice(0, PLAN.callApps) };
    const c = ctx;
    const heapProbe = await gw.heapAfterGc();
    const metricsProbe = await gw.metrics();
    result.heapSource = heapProbe ? 'inspector (forced GC, Runtime.getHeapUsage)' : 'unavailable';
    result.metricsEndpoint = metricsProbe ? 'GET /metrics served nodejs_heap_size_used_bytes' : 'GET /metrics absent or without nodejs_heap_size_used_bytes';

    // ---------------------------------------------------------------- registrations
    await phase('registrations', async () => {
      // warm-up (JIT, script loading, first connections): a second device of a few subscribers
      const warm = apps.slice(0, SMOKE ? 2 : 100).map((a) => ({ ...a, deviceId: randomUUID() }));
      const w = await openLoop(SMOKE ? 10 : 50, warm.length, (i) => registerApp(c.client, warm[i] as VirtualApp), 30000);
      if (w.failed > 0) throw new Error(`warm-up registrations failed: ${JSON.stringify(w.failures).slice(0, 400)}`);
      await sleep(500);
      const idle0 = c.gw.cpuMs();
      await sleep(SMOKE ? 1000 : 3000);
      const idleAfterWarmup = round((c.gw.cpuMs() - idle0) / (SMOKE ? 1 : 3), 1);
      const s0 = await memSnap(c, 'registered', 0);
      const r1 = await openLoop(PLAN.regRate, PLAN.regFirst, (i, at) => registerApp(c.client, apps[i] as VirtualApp).then(() => performance.now() - at), 40000);
      const s1 = await memSnap(c, 'registered', r1.ok.length);
      const r2 = await openLoop(PLAN.regRate2, PLAN.regTotal - PLAN.regFirst, (i, at) => registerApp(c.client, apps[PLAN.regFirst + i] as VirtualApp).then(() => performance.now() - at), 40000);
      const n2 = r1.ok.length + r2.ok.length;
      const s2 = await memSnap(c, 'registered', n2);
      const idle1 = c.gw.cpuMs();
      await sleep(SMOKE ? 1000 : 3000);
      const idleAfterAll = round((c.gw.cpuMs() - idle1) / (SMOKE ? 1 : 3), 1);
      const block = (r: OpenLoopResult<number>, rate: number): Record<string, unknown> => ({
        targetPerS: rate,
        scheduled: r.scheduled,
        ok: r.ok.length,
        failed: r.failed,
        achievedPerS: round(r.ok.length / (r.wallMs / 1000), 1),
        latencyMs: summarise(r.ok),
        failures: r.failures,
      });
      phases.registrations = {
        status: r1.failed + r2.failed === 0 ? 'ok' : 'failed',
        ...(r1.failed + r2.failed > 0 && { reason: `${r1.failed + r2.failed} registrations failed: ${JSON.stringify({ ...r1.failures, ...r2.failures }).slice(0, 400)}` }),
        atTarget: block(r1, PLAN.regRate),
        atHigher: block(r2, PLAN.regRate2),
        warmup: warm.length,
        gatewayIdleCpuMsPerS: { [`${warm.length} registrations`]: idleAfterWarmup, [`${warm.length + n2} registrations`]: idleAfterAll },
        memory: [s0, s1, s2],
        perRegistrationFirst: perItem(s0, s1, r1.ok.length),
        perRegistrationAll: perItem(s0, s2, n2),
      };
      log(
        `  ${r1.ok.length}/${r1.scheduled} at ${PLAN.regRate}/s p50 ${summarise(r1.ok).p50} ms p99 ${summarise(r1.ok).p99} ms; ${r2.ok.length}/${r2.scheduled} at ${PLAN.regRate2}/s p50 ${summarise(r2.ok).p50} p99 ${summarise(r2.ok).p99}`,
      );
    });

    // ---------------------------------------------------------------- subscriptions of the calling apps
    const subscribed = await phase('subscriptions', async () => {
      const todo = ctx?.callApps.filter((a) => a.registrationId) ?? [];
      if (todo.length === 0) throw new Error('no registered app to place calls');
      const r = await openLoop(100, todo.length, (i) => subscribeApp(c.client, c.sink, todo[i] as VirtualApp), 20000);
      if (r.failed > 0) throw new Error(`${r.failed} of ${todo.length} subscriptions failed: ${JSON.stringify(r.failures).slice(0, 300)}`);
      c.callApps = todo;
      return true;
    });

    if (subscribed) {
      // ------------------------------------------------------------ smoke check: one call
      const first = await phase('firstCall', async () => {
        const r = await runCalls(c, SMOKE ? 2 : 5, 1);
        if (!r.pass) throw new Error(`the first calls failed: ${JSON.stringify(r.failures)}`);
        return r;
      });

      if (first) {
        // ---------------------------------------------------------- store round trips, few sessions
        const rtIdle = await phase('roundTripsFewSessions', async () => {
          const p = await probeRoundTrips(c, 'few sessions');
          phases.roundTripsFewSessions = { status: 'ok', ...p };
          return p;
        });

        // ---------------------------------------------------------- other variants (--baseline, --processes)
        const variants: Variant[] = [mainVariant(c)];
        if (VARIANTS > 1) {
          await phase('variants', async () => {
            const todo: Array<{ label: string; mainJs: string; processes: number; keyPrefix: string; judged: boolean }> = [];
            if (PROCESSES > 1) todo.push({ label: `ours-${PROCESSES}p`, mainJs: tr.mainJs, processes: PROCESSES, keyPrefix: 'bench-np:', judged: true });
            if (base) todo.push({ label: 'baseline', mainJs: base.mainJs, processes: 1, keyPrefix: 'bench-base:', judged: false });
            // one variant that does not come up does not keep the others from being measured
            const errors: string[] = [];
            for (const [k, o] of todo.entries()) {
              try {
                variants.push(await startVariant({ ...o, appOffset: variantAppOffset(k + 1) }));
              } catch (e) {
                errors.push(`${o.label}: ${errMsg(e)}`);
                log(`  variant ${o.label} FAILED: ${errMsg(e)}`);
              }
            }
            phases.variants = {
              status: errors.length ? 'failed' : 'ok',
              ...(errors.length > 0 && { reason: errors.join('; ') }),
              variants: variants.map((v) => ({ label: v.label, processes: v.processes, logs: v.gw.logFile })),
            };
          });
        }

        // ---------------------------------------------------------- knee
        const series = new Map<string, CallPhase[]>(variants.map((v) => [v.label, []]));
        const seriesOf = (v: Variant): CallPhase[] => series.get(v.label) ?? [];
        /**
         * Ours' heap and RSS before the load, for phases.afterCallsStop. Read here, at the start of the
         * knee steps, rather than at the registrations' last snapshot: it already holds what stays for
         * the whole run (the registrations and the calling apps' subscriptions) and is warm (JIT code,
         * caches, connection pools) after the first calls, so what the heap keeps once calls stop is
         * compared with load's residue only, not with a one-off warm-up. The few probe calls before it
         * have ended (their transactions may wait out Timer D: a few KB each).
         */
        let beforeLoad: MemSnap | undefined;
        await phase('knee', async () => {
          beforeLoad = await memSnap(c, 'beforeLoad', totalCalls);
          for (const [k, rate] of PLAN.steps.entries()) {
            if (elapsedS() > CALLS_BUDGET_S * 0.55) {
              log('  time budget: stepping stopped');
              break;
            }
            // each variant steps on while its steps pass either knee rule; the order rotates per step
            const order = rotate(variants, k).filter((v) => stillStepping(seriesOf(v)));
            if (order.length === 0) break;
            for (const v of order) {
              const r = await runCalls(c, rate, PLAN.stepS, v);
              if (variants.length > 1) r.order = order.map((x) => x.label);
              seriesOf(v).push(r);
              log(
                `  ${variants.length > 1 ? `${v.label} ` : ''}${rate}/s: ok ${r.ok} failed ${r.failed} cpu ${r.gatewayCpuMsPerCall} (user ${r.cpuUserMsPerCall} system ${r.cpuSystemMsPerCall}) ms/call POST p50/p99 ${r.postMs.p50}/${r.postMs.p99} ms conn p99 ${r.answerToConnectedMs.p99} ms lag p99/max ${r.startLagP99Ms}/${r.generatorMaxLagMs} ms achieved ${r.achievedCps}/s cpu% ${JSON.stringify(r.cpuPct)}${r.pass ? '' : ` FAIL ${JSON.stringify(r.failures).slice(0, 300)}`}${r.passSecondRule ? '' : ' (fails the second rule)'}`,
              );
              // a failed step leaves retransmissions and late events: let them drain before the next run
              await sleep(r.pass ? 1000 : 3000);
            }
          }
          const steps = seriesOf(variants[0] as Variant);
          const knee = kneeOf(steps, firstRule);
          const broke = steps.some((s) => !s.pass);
          phases.knee = {
            status: knee > 0 ? 'ok' : 'failed',
            ...(knee === 0 && { reason: `no step passed: ${JSON.stringify(steps[0]?.failures ?? {})}` }),
            kneeCps: knee,
            kneeSecondRule: kneeOf(steps, secondRule),
            brokeAbove: broke,
            steps,
          };
          await sleep(500);
        });
        const kneeOfVariant = (v: Variant): number => kneeOf(seriesOf(v), firstRule);
        const knee = kneeOfVariant(variants[0] as Variant);

        // ---------------------------------------------------------- latency at 50 % of the knee (each variant at half its own)
        const halfOf = (v: Variant): number => Math.max(1, Math.round((kneeOfVariant(v) || PLAN.steps[0] || 10) / 2));
        const halfRate = halfOf(variants[0] as Variant);
        const halfKnee = new Map<string, CallPhase>();
        await phase('latencyAtHalfKnee', async () => {
          for (const v of rotate(variants, PLAN.steps.length)) {
            const r = await runCalls(c, halfOf(v), PLAN.latencyS, v);
            halfKnee.set(v.label, r);
            if (variants.length > 1)
              log(
                `  ${v.label} ${r.rate}/s: ok ${r.ok} failed ${r.failed} cpu ${r.gatewayCpuMsPerCall} (user ${r.cpuUserMsPerCall} system ${r.cpuSystemMsPerCall}) ms/call POST p50/p99 ${r.postMs.p50}/${r.postMs.p99} ms conn p99 ${r.answerToConnectedMs.p99} ms`,
              );
            if (v.main) phases.latencyAtHalfKnee = { status: r.pass ? 'ok' : 'failed', ...(!r.pass && { reason: JSON.stringify(r.failures).slice(0, 300) }), ...r };
            await sleep(r.pass ? 1000 : 3000);
          }
        });
        if (variants.length > 1) {
          comparison = buildComparison(
            variants.map((v) => ({ label: v.label, processes: v.processes, steps: seriesOf(v), halfKnee: halfKnee.get(v.label) })),
            base ? { ref: base.ref, sha: base.sha } : null,
          );
          result.comparison = comparison;
          result.variantSteps = Object.fromEntries(variants.slice(1).map((v) => [v.label, { knee: seriesOf(v), latencyAtHalfKnee: halfKnee.get(v.label) ?? null }]));
        }

        if (CPU_PROF) {
          await phase('cpuProfile', async () => {
            const rate = SMOKE ? halfRate : (CPU_PROF_RATE ?? halfRate);
            const { result: r, profile } = await c.gw.profile(() => runCalls(c, rate, PLAN.profileS));
            const file = join(BENCH_RUN_DIR, `gateway-${started.toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
            writeFileSync(file, JSON.stringify(profile));
            phases.cpuProfile = { status: 'ok', file, rate, calls: r.ok, gatewayCpuMsPerCall: r.gatewayCpuMsPerCall, top: profileTop(profile, 25), byArea: profileByArea(profile) };
          });
        }

        // ---------------------------------------------------------- concurrent held calls
        await phase('heldCalls', async () => {
          const before = await memSnap(c, 'activeCalls', 0);
          let connected = 0;
          let release: () => void = () => undefined;
          const released = new Promise<void>((res) => {
            release = res;
          });
          let allUp: () => void = () => undefined;
          const allConnected = new Promise<void>((res) => {
            allUp = res;
          });
          const n = PLAN.heldCalls;
          const t0 = performance.now();
          const cpu0 = c.gw.cpuMs();
          const run = openLoop(
            PLAN.heldRate,
            n,
            (i, at) =>
              fullCall(c.client, c.sink, c.callApps[i % c.callApps.length] as VirtualApp, at, {
                holdMs: 0,
                stepTimeoutMs: PLAN.stepTimeoutMs,
                holdUntil: released,
                onConnected: () => {
                  if (++connected === n) allUp();
                },
              }),
            PLAN.heldMs + (n / PLAN.heldRate) * 1000 + 4 * PLAN.stepTimeoutMs + 5000,
          );
          const rampMs = (n / PLAN.heldRate) * 1000 + PLAN.stepTimeoutMs;
          await Promise.race([allConnected, sleep(rampMs)]);
          const up = connected;
          const during = await memSnap(c, 'activeCalls', up);
          // store round trips per call while `up` sessions are live
          const rtHeld = await probeRoundTrips(c, 'with held sessions').catch((e: unknown) => ({ error: errMsg(e) }));
          // every call is held at least heldMs after the last one connected… within the time budget
          const holdLeft = Math.max(0, PLAN.heldMs - (performance.now() - t0 - rampMs * 0));
          await sleep(Math.min(holdLeft, PLAN.heldMs));
          release();
          const r = await run;
          totalCalls += r.ok.length;
          callTally.scheduled += r.ok.length + r.failed;
          callTally.failed += r.failed;
          callCpuMs += c.gw.cpuMs() - cpu0;
          await sleep(1000);
          const after = await memSnap(c, 'activeCalls', 0);
          phases.heldCalls = {
            status: up === n && r.failed === 0 ? 'ok' : 'failed',
            ...(up !== n || r.failed > 0 ? { reason: `${up}/${n} connected, ${r.failed} failed: ${JSON.stringify(r.failures).slice(0, 300)}` } : {}),
            calls: n,
            connectedAtSnapshot: up,
            heldForS: round(PLAN.heldMs / 1000, 1),
            memory: [before, during, after],
            perActiveCall: perItem(before, during, up),
            retainedAfterEnd: perItem(before, after, r.ok.length),
            roundTripsWithHeldSessions: rtHeld,
          };
        });
        const rtHeldPhase = phases.heldCalls?.roundTripsWithHeldSessions as { perCall?: number | null } | undefined;
        phases.roundTrips = {
          status: rtIdle?.perCall != null && rtHeldPhase?.perCall != null ? 'ok' : 'failed',
          fewSessions: rtIdle?.perCall ?? null,
          withHeldSessions: rtHeldPhase?.perCall ?? null,
        };

        // ---------------------------------------------------------- sustained: RSS over many calls
        await phase('sustained', async () => {
          const left = CALLS_BUDGET_S - elapsedS() - 15;
          const seconds = Math.min(PLAN.sustainMaxS, Math.floor(left));
          if (seconds < (SMOKE ? 1 : 10)) {
            phases.sustained = { status: 'skipped', reason: `time budget (${Math.round(left)} s left)` };
            return;
          }
          const rate = Math.max(1, Math.round((knee || 10) * 0.8));
          const heap0 = await memSnap(c, 'sustained', totalCalls);
          const chunks: CallPhase[] = [];
          const chunkS = SMOKE ? seconds : 10;
          for (let t = 0; t + chunkS <= seconds; t += chunkS) chunks.push(await runCalls(c, rate, chunkS));
          const heap1 = await memSnap(c, 'sustained', totalCalls);
          const ok = chunks.reduce((a, b) => a + b.ok, 0);
          const failed = chunks.reduce((a, b) => a + b.failed, 0);
          phases.sustained = {
            status: failed <= (ok + failed) * 0.001 ? 'ok' : 'failed',
            rate,
            seconds: chunks.length * chunkS,
            ok,
            failed,
            memory: [heap0, heap1],
            retainedPerCall: perItem(heap0, heap1, ok),
            cpuMsPerCall: chunks.map((x) => x.gatewayCpuMsPerCall),
            cpuUserMsPerCall: chunks.map((x) => x.cpuUserMsPerCall),
            cpuSystemMsPerCall: chunks.map((x) => x.cpuSystemMsPerCall),
          };
        });

        // ---------------------------------------------------------- after the calls stop: RSS flat, heap back to base
        await phase('afterCallsStop', async () => {
          const offsets = PLAN.afterStopAtS;
          const need = (offsets[offsets.length - 1] ?? 0) + (SMOKE ? 2 : 5);
          const left = BUDGET_S - elapsedS();
          if (left < need) {
            phases.afterCallsStop = { status: 'skipped', reason: `time budget (${Math.round(left)} s left, ${need} s needed)` };
            return;
          }
          const mib = (bytes: number | null | undefined): number | null => (bytes == null ? null : round(bytes / 1048576, 2));
          const t0 = performance.now();
          const samples: AfterStopSample[] = [];
          for (const at of offsets) {
            await sleep(Math.max(0, t0 + at * 1000 - performance.now()));
            // RSS before the forced GC of the heap reading, which may give pages back and flatter it
            const atS = round((performance.now() - t0) / 1000, 1) ?? 0;
            const rss = c.gw.rss();
            const heap = await c.gw.heapAfterGc();
            samples.push({ atS, rssMiB: mib(rss), heapMiB: mib(heap?.usedAfterGc) });
          }
          const heapBeforeLoadMiB = mib(beforeLoad?.heapAfterGc);
          phases.afterCallsStop = {
            status: 'ok',
            callsBefore: totalCalls,
            samples,
            ...afterStopFigures(samples, heapBeforeLoadMiB),
            rssFlatTolerancePct: RSS_FLAT_TOLERANCE_PCT,
            beforeLoad: { at: 'start of the knee steps', heapMiB: heapBeforeLoadMiB, rssMiB: mib(beforeLoad?.rss) },
          };
          log(`  ${samples.map((x) => `+${x.atS} s: RSS ${x.rssMiB} MiB heap ${x.heapMiB} MiB`).join(', ')}; heap before load ${heapBeforeLoadMiB} MiB`);
        });
      }
    }
    result.totalCalls = totalCalls;
    result.gatewayCpuMsPerCallAllCallPhases = totalCalls ? round(callCpuMs / totalCalls, 3) : null;
    result.rssOverCalls = rssOverCalls;
    result.sinkEvents = { received: ctx.sink.received, malformed: ctx.sink.malformed, byStatus: ctx.sink.byStatus };
  } catch (e) {
    harnessError = e instanceof Error ? (e.stack ?? e.message) : String(e);
    log(`HARNESS ERROR: ${harnessError}`);
    if (ctx) log(`gateway log tail:\n${ctx.gw.logTail(20)}`);
  } finally {
    for (const s of stoppers) await s().catch((e: unknown) => log(`stop: ${errMsg(e)}`));
  }
  result.phases = phases;
  result.elapsedS = round(elapsedS(), 1);
  if (harnessError) result.harnessError = harnessError;
  const targets = evaluateTargets(result);
  result.targets = targets;
  printReport(result, targets);
  if (comparison) process.stdout.write(`\n${formatComparison(comparison)}`);
  const out = argVal('--out') ?? (SMOKE ? join(BENCH_RUN_DIR, 'smoke.json') : join(REPO_ROOT, 'bench', 'results', `${started.toISOString().slice(0, 10)}.json`));
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  log(`results: ${out}`);
  const failedPhases = Object.entries(phases)
    .filter(([, p]) => p.status === 'failed')
    .map(([k]) => k);
  if (harnessError) return 2;
  if (SMOKE && failedPhases.length > 0) {
    log(`smoke: failed phases: ${failedPhases.join(', ')}`);
    return 1;
  }
  const missed = targets.filter((t) => t.correctness === true && t.met === false);
  if (SMOKE && missed.length > 0) {
    log(`smoke: missed ${missed.map((t) => t.name).join('; ')}`);
    return 1;
  }
  return 0;
}

// ------------------------------------------------------------------------------------ report

interface Target {
  name: string;
  target: string;
  value: string;
  met: boolean | null;
  note?: string;
  /** Independent of the machine: judged on smoke runs too, and a miss fails them. */
  correctness?: boolean;
}

function num(o: unknown, ...path: string[]): number | null {
  let cur: unknown = o;
  for (const k of path) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : null;
}

function evaluateTargets(res: Record<string, unknown>): Target[] {
  const p = phases;
  const t: Target[] = [];
  const cpu = num(res, 'gatewayCpuMsPerCallAllCallPhases');
  t.push({
    name: 'gateway CPU per full call',
    target: '≤ 0.9 ms',
    value: cpu === null ? 'n/a' : `${cpu} ms (${cpu ? Math.round(1000 / cpu) : '∞'} calls/s per core)`,
    met: cpu === null ? null : cpu <= 0.9,
  });
  const knee = num(p.knee, 'kneeCps');
  const sipp = num(p.sippDirect, 'kneeCps');
  t.push({
    name: 'knee (full calls/s, ≤ 0.1 % failures)',
    target: 'beside peer 350–375',
    value:
      knee === null
        ? 'n/a'
        : `${knee}/s${p.knee?.brokeAbove ? '' : ' (not broken: highest step)'} (second rule: ${num(p.knee, 'kneeSecondRule') ?? 'n/a'}/s); SIPp direct ${sipp ?? 'n/a'}/s${p.sippDirect?.capped ? '+' : ''} → ratio ${knee !== null && sipp ? round(knee / sipp, 3) : 'n/a'}`,
    met: knee === null ? null : knee >= 375,
  });
  const postP99 = num(p.latencyAtHalfKnee, 'postMs', 'p99');
  t.push({
    name: 'POST /sessions p99 at 50 % of knee',
    target: '≤ 5 ms',
    value: postP99 === null ? 'n/a' : `${postP99} ms (p50 ${num(p.latencyAtHalfKnee, 'postMs', 'p50')}, p95 ${num(p.latencyAtHalfKnee, 'postMs', 'p95')})`,
    met: postP99 === null ? null : postP99 <= 5,
  });
  const connP99 = num(p.latencyAtHalfKnee, 'answerToConnectedMs', 'p99');
  t.push({
    name: 'answer → Connected at sink p99 (50 % knee)',
    target: '≤ 10 ms',
    value: connP99 === null ? 'n/a' : `${connP99} ms (p50 ${num(p.latencyAtHalfKnee, 'answerToConnectedMs', 'p50')}); upper bound: from POST start, ring time subtracted`,
    met: connP99 === null ? null : connP99 <= 10,
  });
  const heapReg = num(p.registrations, 'perRegistrationAll', 'heapBytes');
  t.push({
    name: 'heap per registration',
    target: '≤ 5 KB',
    value: heapReg === null ? 'n/a' : `${round(heapReg / 1024, 2)} KB (first ${num(p.registrations, 'perRegistrationFirst', 'heapBytes') ?? 'n/a'} B)`,
    met: heapReg === null ? null : heapReg <= 5 * 1024,
  });
  const heapCall = num(p.heldCalls, 'perActiveCall', 'heapBytes');
  t.push({ name: 'heap per active call', target: '≤ 10 KB', value: heapCall === null ? 'n/a' : `${round(heapCall / 1024, 2)} KB`, met: heapCall === null ? null : heapCall <= 10 * 1024 });
  const retained = num(p.sustained, 'retainedPerCall', 'heapBytes');
  const rss = rssOverCalls;
  const rssFirst = rss[0];
  const rssLast = rss[rss.length - 1];
  const calls = num(res, 'totalCalls') ?? 0;
  const rssGrowth = rssFirst && rssLast ? rssLast.rssMiB - rssFirst.rssMiB : null;
  t.push({
    name: 'RSS flat over 50k calls',
    target: 'flat (peer +3.4 KB/call)',
    value: rssGrowth === null ? 'n/a' : `${calls} calls in the run: RSS ${rssFirst?.rssMiB} → ${rssLast?.rssMiB} MiB; heap retained ${retained ?? 'n/a'} B/call over the sustained phase`,
    met: retained === null ? null : retained <= 200,
    note: calls < 50000 ? `only ${calls} calls fit in the time budget; judged on heap retained per call after GC (≤ 200 B/call ⇒ < 10 MB over 50k)` : undefined,
  });
  const stop = p.afterCallsStop;
  const stopSamples = (stop?.samples ?? []) as AfterStopSample[];
  const stopFirst = stopSamples[0];
  const stopLast = stopSamples.length > 1 ? stopSamples[stopSamples.length - 1] : undefined;
  const rssFlat = typeof stop?.rssFlat === 'boolean' ? stop.rssFlat : null;
  const signed = (v: number | null): string => (v === null ? 'n/a' : `${v >= 0 ? '+' : ''}${v} %`);
  t.push({
    name: 'RSS flat once calls stop',
    target: `RSS at the last reading ≤ +${RSS_FLAT_TOLERANCE_PCT} % of +0 s; heap back to before the load`,
    value:
      stopFirst && stopLast
        ? `RSS ${stopFirst.rssMiB} → ${stopLast.rssMiB} MiB (${signed(num(stop, 'rssChangePct'))}) from +${stopFirst.atS} to +${stopLast.atS} s; heap ${stopFirst.heapMiB ?? 'n/a'} → ${stopLast.heapMiB ?? 'n/a'} MiB (${signed(num(stop, 'heapChangePct'))}), ${signed(num(stop, 'heapVsBeforeLoadPct'))} against ${num(stop, 'beforeLoad', 'heapMiB') ?? 'n/a'} MiB before the load`
        : `n/a (${stop?.status ?? 'not run'}${stop?.reason ? `: ${String(stop.reason)}` : ''})`,
    met: rssFlat,
  });
  const regP50 = num(p.registrations, 'atTarget', 'latencyMs', 'p50');
  const regRate = num(p.registrations, 'atTarget', 'achievedPerS');
  const regFailed = num(p.registrations, 'atTarget', 'failed');
  t.push({
    name: 'new registrations/s (digest each)',
    target: '≥ 500/s, p50 ≤ 20 ms',
    value:
      regP50 === null
        ? 'n/a'
        : `${regRate}/s offered ${PLAN.regRate}/s, p50 ${regP50} ms p99 ${num(p.registrations, 'atTarget', 'latencyMs', 'p99')} ms, failed ${regFailed}; at ${PLAN.regRate2}/s: ${num(p.registrations, 'atHigher', 'achievedPerS')}/s p50 ${num(p.registrations, 'atHigher', 'latencyMs', 'p50')} ms`,
    met: regP50 === null ? null : regP50 <= 20 && regFailed === 0 && (regRate ?? 0) >= PLAN.regRate * 0.95,
  });
  const rt0 = num(p.roundTrips, 'fewSessions');
  const rt1 = num(p.roundTrips, 'withHeldSessions');
  t.push({
    name: 'store round trips per full call',
    target: 'fixed (no growth with sessions)',
    value: rt0 === null ? 'n/a' : `${rt0} with few sessions, ${rt1 ?? 'n/a'} with ${num(p.heldCalls, 'connectedAtSnapshot') ?? '?'} live calls`,
    met: rt0 === null || rt1 === null ? null : Math.abs(rt1 - rt0) <= Math.max(1, rt0 * 0.1),
  });
  const cmp = res.comparison as Comparison | undefined;
  const vsBase = cmp?.ratios.baseline;
  if (cmp && vsBase) {
    const at100 = vsBase.cpuMsPerCall.find((x) => x.rate === 100) ?? null;
    t.push({
      name: 'CPU per full call at 100/s, ours ÷ baseline (same run)',
      target: '≤ 0.25',
      value: at100
        ? `${at100.ratio ?? 'n/a'} (${cmp.rates.find((r) => r.rate === 100)?.cpuMsPerCall.ours ?? 'n/a'} vs ${cmp.rates.find((r) => r.rate === 100)?.cpuMsPerCall.baseline ?? 'n/a'} ms)`
        : 'n/a (no step at 100/s for both)',
      met: at100?.ratio == null ? null : at100.ratio <= 0.25,
    });
    t.push({
      name: 'knee, ours ÷ baseline, one process (same run)',
      target: '≥ 2.5',
      value: `${vsBase.knee ?? 'n/a'} (${cmp.knee.ours ?? 'n/a'} vs ${cmp.knee.baseline ?? 'n/a'}/s; second rule ${cmp.kneeSecondRule.ours ?? 'n/a'} vs ${cmp.kneeSecondRule.baseline ?? 'n/a'}/s)`,
      met: vsBase.knee === null ? null : vsBase.knee >= 2.5,
    });
  }
  // smoke numbers are tiny and mean nothing for speed: those targets are only judged on a full run
  return SMOKE ? [...t.map((x) => ({ ...x, met: null, note: 'smoke run: not judged' })), ...correctnessTargets(res)] : [...t, ...correctnessTargets(res)];
}

/** What does not depend on the machine, judged on every run, smoke included (a miss fails the smoke). */
function correctnessTargets(res: Record<string, unknown>): Target[] {
  const sink = res.sinkEvents as { malformed?: number } | undefined;
  const rt = num(phases.roundTrips, 'fewSessions');
  return [
    {
      name: 'every call completes, Connected and Terminated seen at the sink',
      target: '0 failed',
      value: `${callTally.failed} failed of ${callTally.scheduled} started${sink?.malformed ? `; ${sink.malformed} malformed events` : ''}`,
      met: callTally.scheduled > 0 && callTally.failed === 0 && !sink?.malformed,
      correctness: true,
    },
    {
      name: 'store round trips per full call (correctness)',
      target: `≤ ${MAX_ROUND_TRIPS_PER_CALL}`,
      value: rt === null ? 'n/a' : `${rt}`,
      met: rt !== null && rt <= MAX_ROUND_TRIPS_PER_CALL,
      correctness: true,
    },
  ];
}

function printReport(res: Record<string, unknown>, targets: Target[]): void {
  const line = (a: string, b: string): void => {
    process.stdout.write(`  ${a.padEnd(44)} ${b}\n`);
  };
  process.stdout.write(`\n=== gateway benchmark (${SMOKE ? 'SMOKE — tiny numbers, not figures' : 'full'}) ===\n`);
  const m = res.machine as Record<string, unknown>;
  line('machine', `${String(m.cpus)} × ${String(m.cpuModel)}, ${String(m.memGiB)} GiB, node ${String(m.node)}`);
  line(
    'phases',
    Object.entries(phases)
      .map(([k, v]) => `${k}:${v.status}`)
      .join(' '),
  );
  for (const [k, v] of Object.entries(phases)) if (v.status === 'failed') line(`  ${k} failed`, String(v.reason ?? ''));
  const steps = (phases.knee?.steps ?? []) as CallPhase[];
  if (steps.length) {
    process.stdout.write('\n  rate/s  ok/sched   fail%   cpu ms/call  user/system ms  sys %  POST p50/p95/p99 ms     conn p50/p99 ms  redis cmds/call\n');
    for (const s of steps) {
      process.stdout.write(
        `  ${String(s.rate).padStart(6)}  ${`${s.ok}/${s.scheduled}`.padStart(9)}  ${(s.failureRate * 100).toFixed(2).padStart(6)}  ${String(s.gatewayCpuMsPerCall).padStart(11)}  ${`${s.cpuUserMsPerCall}/${s.cpuSystemMsPerCall}`.padStart(14)}  ${String(systemSharePct(s.cpuUserMsPerCall, s.cpuSystemMsPerCall) ?? '—').padStart(5)}  ${`${s.postMs.p50}/${s.postMs.p95}/${s.postMs.p99}`.padStart(20)}  ${`${s.answerToConnectedMs.p50}/${s.answerToConnectedMs.p99}`.padStart(15)}  ${String(s.storeCommandsPerCall).padStart(8)}\n`,
      );
    }
  }
  const sr = (phases.sippDirect?.runs ?? []) as SippRun[];
  if (sr.length) process.stdout.write(`\n  SIPp direct: ${sr.map((r) => `${r.rate}/s ${r.pass ? 'ok' : 'FAIL'} (${r.uacCpuMsPerCall} ms/call)`).join(', ')}\n`);
  const stopSamples = (phases.afterCallsStop?.samples ?? []) as AfterStopSample[];
  if (stopSamples.length) process.stdout.write(`  after the calls stop: ${stopSamples.map((x) => `+${x.atS} s RSS ${x.rssMiB ?? 'n/a'} MiB heap ${x.heapMiB ?? 'n/a'} MiB`).join(' | ')}\n`);
  const mem = phases.registrations?.memory as MemSnap[] | undefined;
  if (mem)
    process.stdout.write(
      `  memory by registrations: ${mem.map((s) => `${s.count}: heap ${s.heapAfterGc === null ? 'n/a' : round(s.heapAfterGc / 1048576, 1)} MiB rss ${round(s.rss / 1048576, 1)} MiB redis ${round(s.redisUsedMemory / 1048576, 1)} MiB`).join(' | ')}\n`,
    );
  const cp = phases.cpuProfile;
  if (cp?.top) {
    process.stdout.write(`\n  CPU profile (gateway, ${String(cp.rate)} calls/s, ${String(cp.gatewayCpuMsPerCall)} ms CPU per call), top self time:\n`);
    for (const f of (cp.top as Array<{ fn: string; where: string; pct: number }>).slice(0, 15)) process.stdout.write(`    ${String(f.pct).padStart(5)} %  ${f.fn}  ${f.where}\n`);
    process.stdout.write(`  by area: ${(cp.byArea as Array<{ area: string; pct: number }>).map((a) => `${a.area} ${a.pct}%`).join(', ')}\n`);
  }
  process.stdout.write('\n  targets:\n');
  for (const t of targets) {
    const mark = t.met === null ? 'n/a   ' : t.met ? 'MET   ' : 'MISSED';
    process.stdout.write(`  [${mark}] ${t.name} (${t.target}): ${t.value}${t.note ? ` — ${t.note}` : ''}\n`);
  }
  process.stdout.write(`\n  elapsed ${String(res.elapsedS)} s\n`);
}

main().then(
  (code) => {
    process.exitCode = code;
    // undici keep-alive sockets / timers must not keep us alive
    setTimeout(() => process.exit(code), 500).unref();
  },
  (e: unknown) => {
    process.stderr.write(`bench failed: ${errMsg(e)}\n`);
    process.exit(2);
  },
);
