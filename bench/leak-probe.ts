/**
 * Leak probe: does the heap come back once calls stop, or does each call leave something behind?
 * Against the real lab (Redis, Kamailio, a SIPp UAS answering 200) and the gateway booted
 * in-process (`test/support/gateway.ts`, listening on a loopback port), with apps that registered
 * and subscribed to session-status events delivered to the load generator's event sink. Each round
 * runs full calls, like the benchmark (POST → Connected at the sink → DELETE → Terminated at the
 * sink), open loop at `--rate`/s, then waits `--settle-ms` (default 40 s: past Timer D, 32 s over
 * UDP, RFC 3261 §17.1.1.2, and the 64·T1 waits of the other transactions), forces a full GC and
 * reads the heap.
 *
 *   node --expose-gc --require ts-node/register/transpile-only bench/leak-probe.ts \
 *     [--rounds 4] [--calls 1000] [--rate 100] [--apps 50] [--settle-ms 40000] [--heap-snapshot <prefix>]
 *
 * Prints the heap used after each round and, between the last rounds, the growth per call: a leak
 * grows the heap by roughly the same amount every round (bytes per call stay constant), bounded
 * caches fill in the first rounds and then stop. With `--heap-snapshot <prefix>`, writes
 * `<prefix>-2.heapsnapshot` after round 2 and `<prefix>-<last>.heapsnapshot` after the last round,
 * and prints `bench/heap-diff.ts` of the two (what the rounds after round 2 left, by constructor, per
 * call). The load generator shares this heap: at each reading it holds the current round's results
 * only (the same amount every round), its earlier rounds' state being gone.
 * The gateway logs at `error` unless LOG_LEVEL says otherwise.
 * No assertions.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { createTestIdp } from '../test/support/auth';
import { startGateway } from '../test/support/gateway';
import { startKamailio, startRedis, startSippUas, type Lab } from '../test/support/lab';
import { makeLabDir, REPO_ROOT } from '../test/support/proc';
import { EventSink, fullCall, GatewayClient, makeApps, openLoop, registerApp, subscribeApp, writeLoadTestCredentials, type VirtualApp } from './lib/loadgen';
import { sleep } from './lib/stats';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? String(process.argv[i + 1]) : dflt;
}

const ROUNDS = Math.max(2, Number(arg('rounds', '4')));
const CALLS = Number(arg('calls', '1000'));
const RATE = Number(arg('rate', '100'));
const APPS = Number(arg('apps', '50'));
const SETTLE_MS = Number(arg('settle-ms', '40000'));
/** `--heap-snapshot <prefix>`: snapshots after round 2 and after the last round, diffed with bench/heap-diff.ts */
const HEAP_SNAPSHOT = arg('heap-snapshot', '');

const MiB = 1048576;
const mib = (b: number): string => (b / MiB).toFixed(1);

/** Heap used after a full GC (needs `node --expose-gc`). */
function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

interface Reading {
  round: number;
  calls: number;
  ok: number;
  failed: number;
  heapMiB: number;
  rssMiB: number;
  /** heap growth since the previous reading, per call of this round */
  bytesPerCall: number | null;
  heap: number;
}

async function main(): Promise<void> {
  const log = (s: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
  const uas = await startSippUas('uas-answer-200', { ringMs: 10, trace: false, name: 'leak-answer', extraArgs: ['-buff_size', '4194304'] });
  const kamailio = await startKamailio({ uasPort: uas.port, shmMb: 1024, children: 4 });
  const redis = await startRedis();
  const stopLab = async (): Promise<void> => {
    await Promise.allSettled([kamailio.stop(), redis.stop(), uas.stop()]);
  };
  try {
    const idp = await createTestIdp();
    const credFile = writeLoadTestCredentials(
      makeLabDir('leak-probe'),
      Array.from({ length: APPS }, (_, i) => i),
    );
    const lab = { kamailio, redis, domain: kamailio.domain } as unknown as Lab;
    const gw = await startGateway(lab, idp, {
      SIP_CREDENTIALS_FILE: credFile,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
      RATE_LIMIT_PER_ADDRESS: '1000000',
      RATE_LIMIT_PER_TOKEN: '100000',
    });
    await gw.app.listen(0, '127.0.0.1');
    const addr = gw.app.getHttpServer().address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const client = new GatewayClient(`http://127.0.0.1:${port}`, 32);
    const sink = new EventSink();
    await sink.start();
    try {
      const apps = await makeApps(idp, APPS);
      const reg = await openLoop(50, apps.length, (i) => registerApp(client, apps[i] as VirtualApp), 30_000);
      if (reg.failed > 0) throw new Error(`registrations failed: ${JSON.stringify(reg.failures)}`);
      const sub = await openLoop(50, apps.length, (i) => subscribeApp(client, sink, apps[i] as VirtualApp), 30_000);
      if (sub.failed > 0) throw new Error(`subscriptions failed: ${JSON.stringify(sub.failures)}`);
      log(`lab up: redis ${redis.port}, kamailio ${kamailio.port}, uas ${uas.port}; gateway http ${port} sip ${gw.sipPort}; ${APPS} apps registered and subscribed`);
      // a few warm-up calls (JIT code, connection pools), then the base reading
      const warm = await openLoop(10, 20, (i, at) => fullCall(client, sink, apps[i % APPS] as VirtualApp, at, { holdMs: 0, stepTimeoutMs: 10_000 }), 30_000);
      if (warm.failed > 0) throw new Error(`warm-up calls failed: ${JSON.stringify(warm.failures)}`);
      log(`warm-up: 20 calls; settling ${SETTLE_MS} ms before the base reading`);
      await sleep(SETTLE_MS);
      const base = heapAfterGc();
      log(`round 0 (base): heap ${mib(base)} MiB, rss ${mib(process.memoryUsage().rss)} MiB`);
      const readings: Reading[] = [];
      let prev = base;
      for (let round = 1; round <= ROUNDS; round++) {
        const r = await openLoop(RATE, CALLS, (i, at) => fullCall(client, sink, apps[i % APPS] as VirtualApp, at, { holdMs: 0, stepTimeoutMs: 10_000 }), 60_000);
        // only counts are used past the settle
        const ok = r.ok.length;
        const failed = r.failed;
        const failures = failed > 0 ? ` failures ${JSON.stringify(r.failures).slice(0, 300)}` : '';
        log(`round ${round}: ${ok} calls ok, ${failed} failed in ${(r.wallMs / 1000).toFixed(1)} s${failures}; settling ${SETTLE_MS} ms`);
        await sleep(SETTLE_MS);
        const heap = heapAfterGc();
        const rss = process.memoryUsage().rss;
        const reading: Reading = {
          round,
          calls: CALLS,
          ok,
          failed,
          heap,
          heapMiB: Number(mib(heap)),
          rssMiB: Number(mib(rss)),
          bytesPerCall: ok > 0 ? Math.round((heap - prev) / ok) : null,
        };
        readings.push(reading);
        prev = heap;
        log(
          `round ${round}: heap ${mib(heap)} MiB (${heap >= base ? '+' : ''}${mib(heap - base)} over the base), rss ${mib(rss)} MiB, ${reading.bytesPerCall} B per call of this round; sink watches left ${sink.tracked}`,
        );
        if (HEAP_SNAPSHOT && (round === 2 || round === ROUNDS)) {
          const file = writeHeapSnapshot(`${HEAP_SNAPSHOT}-${round}.heapsnapshot`);
          log(`heap snapshot ${file}`);
        }
      }
      const r2 = readings[1] as Reading;
      const last = readings[readings.length - 1] as Reading;
      const callsAfter2 = readings.slice(2).reduce((a, x) => a + x.ok, 0);
      const perCallAfter2 = callsAfter2 > 0 ? Math.round((last.heap - r2.heap) / callsAfter2) : null;
      const first = readings[0] as Reading;
      const perCallFirst = first.bytesPerCall;
      console.log('\nheap after each round (settled, forced GC):');
      console.log(`  round 0 (base)  ${mib(base).padStart(7)} MiB`);
      for (const x of readings)
        console.log(
          `  round ${x.round} ${String(x.ok).padStart(6)} ok ${String(x.failed).padStart(3)} failed  ${String(x.heapMiB.toFixed(1)).padStart(7)} MiB  ${String(x.bytesPerCall).padStart(6)} B/call  rss ${x.rssMiB.toFixed(1)} MiB`,
        );
      console.log(`\ngrowth from round 2 to round ${ROUNDS}: ${mib(last.heap - r2.heap)} MiB over ${callsAfter2} calls = ${perCallAfter2} B per call (round 1: ${perCallFirst} B per call)`);
      console.log(
        'verdict guide: a per-call leak keeps B/call roughly constant every round; caches that fill stop growing after the first rounds (B/call near 0 or negative, within a few dozen bytes of noise).',
      );
      console.log(
        JSON.stringify({
          rounds: ROUNDS,
          callsPerRound: CALLS,
          rate: RATE,
          apps: APPS,
          settleMs: SETTLE_MS,
          baseHeapMiB: Number(mib(base)),
          readings: readings.map(({ heap: _h, ...x }) => x),
          bytesPerCallAfterRound2: perCallAfter2,
        }),
      );
      if (HEAP_SNAPSHOT && ROUNDS > 2) {
        console.log(`\nheap-diff: objects new since round 2 still alive after round ${ROUNDS}, per call (${callsAfter2} calls)`);
        const out = execFileSync(
          process.execPath,
          [
            '--max-old-space-size=4096',
            '--require',
            'ts-node/register/transpile-only',
            join(REPO_ROOT, 'bench', 'heap-diff.ts'),
            `${HEAP_SNAPSHOT}-2.heapsnapshot`,
            `${HEAP_SNAPSHOT}-${ROUNDS}.heapsnapshot`,
            '--top',
            '20',
            '--per',
            String(Math.max(1, callsAfter2)),
          ],
          { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * MiB },
        );
        console.log(out);
      }
    } finally {
      await client.close();
      await sink.stop();
      await gw.close();
    }
  } finally {
    await stopLab();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
