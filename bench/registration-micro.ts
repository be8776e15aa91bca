/**
 * Micro benchmark of the registration path: POST /webrtc-registration/v0.4/sessions → store →
 * REGISTER → 401 → REGISTER with digest → 200 → store → 201, against the real lab (Kamailio, and
 * Redis unless `--store memory`), the gateway booted in-process (`test/support/gateway.ts`, Fastify
 * inject: the whole HTTP pipeline without a socket).
 *
 *   node --expose-gc --require ts-node/register/transpile-only [--cpu-prof] bench/registration-micro.ts \
 *     [--rate 500] [--count 2000] [--warm 300] [--store redis|memory] [--heap-sample <file.heapprofile> [--allocations]]
 *     [--round-trips 50] [--heap-snapshot <prefix>] [--settle-ms 0]
 *
 * Prints registrations/s achieved, latency p50/p99 from each registration's scheduled start
 * (open loop), and µs of this process's CPU per registration (gateway and load generator share
 * it; tokens are signed before the clock starts), and Kamailio's (with its workers). With
 * `--expose-gc`, also the heap retained per registration after a forced GC (the in-process load
 * generator's share included; with the memory store the records are on this heap too). No assertions.
 */
import { writeFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { randomUUID } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { createTestIdp } from '../test/support/auth';
import { startGateway } from '../test/support/gateway';
import { loadTestSubscriber, startKamailio, startRedis, type Lab } from '../test/support/lab';
import { makeLabDir } from '../test/support/proc';
import { openLoop, writeLoadTestCredentials } from './lib/loadgen';
import { groupCpuMs } from './lib/procfs';
import { monitorRoundTrips } from './lib/redis-stats';
import { sleep, summarise } from './lib/stats';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? String(process.argv[i + 1]) : dflt;
}

const RATE = Number(arg('rate', '500'));
const COUNT = Number(arg('count', '2000'));
const WARM = Number(arg('warm', '300'));
const STORE = arg('store', 'redis');
/** `--heap-sample <file>`: V8's sampling heap profile over the measured span, of what is still live at its end (open it in DevTools). */
const HEAP_SAMPLE = arg('heap-sample', '');
/** `--allocations`: with `--heap-sample`, every allocation sampled, also what GC collected (where the GC work comes from). */
const ALLOCATIONS = process.argv.includes('--allocations');
/** `--heap-snapshot <prefix>`: V8 heap snapshots after the forced GCs, `<prefix>-0.heapsnapshot` before the measured span and `<prefix>-1.heapsnapshot` after it (diff them with `bench/heap-diff.ts`). */
const HEAP_SNAPSHOT = arg('heap-snapshot', '');
/** `--settle-ms <ms>` (default 0): wait this long after the measured span before the second heap reading, so that what is still in flight (transactions in Timer K, the refresher's SUBSCRIBEs) has ended. */
const SETTLE_MS = Number(arg('settle-ms', '0'));
/** `--round-trips <n>` (Redis only, default 50): afterwards, n more registrations at 20/s under MONITOR, and their store round trips each, the reg SUBSCRIBE's included, idle traffic subtracted. */
const ROUND_TRIPS = STORE === 'redis' ? Number(arg('round-trips', '50')) : 0;

/** Heap used after a full GC (needs `node --expose-gc`), as the benchmark reads it between phases. */
function heapAfterGc(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Store round trips per registration (MONITOR: commands run inside Lua and a MULTI…EXEC's body do
 * not count): ROUND_TRIPS registrations at 20/s, then 2.5 s for the refresher's pass that sends
 * their reg SUBSCRIBEs; the idle rate of the same span (leases, heartbeats) is subtracted.
 */
async function countRoundTrips(client: Parameters<typeof monitorRoundTrips>[0], register: (i: number) => Promise<void>): Promise<{ perRegistration: number; by: Record<string, number> }> {
  const busy = await monitorRoundTrips(client, async () => {
    const r = await openLoop(20, ROUND_TRIPS, register, 10_000);
    if (r.failed > 0) throw new Error(`round-trip registrations failed: ${JSON.stringify(r.failures)}`);
    await sleep(2500);
  });
  const idle = await monitorRoundTrips(client, () => sleep(busy.count.ms));
  const perRegistration = (busy.count.roundTrips - idle.count.roundTrips) / ROUND_TRIPS;
  return { perRegistration: Math.round(perRegistration * 10) / 10, by: busy.count.by };
}

async function main(): Promise<void> {
  const kamailio = await startKamailio({ shmMb: 1024, children: 4 });
  const redis = STORE === 'redis' ? await startRedis() : null;
  const stop = async (): Promise<void> => {
    await Promise.allSettled([kamailio.stop(), redis?.stop()]);
  };
  try {
    const idp = await createTestIdp();
    const total = WARM + COUNT + ROUND_TRIPS;
    const credFile = writeLoadTestCredentials(
      makeLabDir('reg-micro'),
      Array.from({ length: total }, (_, i) => i),
    );
    const lab = { kamailio, redis, domain: kamailio.domain } as unknown as Lab;
    const gw = await startGateway(lab, idp, {
      SIP_CREDENTIALS_FILE: credFile,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      RATE_LIMIT_PER_ADDRESS: '1000000',
      RATE_LIMIT_PER_TOKEN: '100000',
    });
    try {
      const scope = 'webrtc-registration:sessions:create';
      const apps: Array<{ token: string; deviceId: string }> = [];
      for (let i = 0; i < total; i++) apps.push({ token: await idp.token({ phone_number: loadTestSubscriber(i).user, scope, expiresIn: '1h' }), deviceId: randomUUID() });
      const register = async (i: number): Promise<void> => {
        const app = apps[i] as { token: string; deviceId: string };
        const r = await gw.request('POST', '/webrtc-registration/v0.4/sessions', { token: app.token, body: { deviceId: app.deviceId } });
        if (r.status !== 201) throw new Error(`HTTP ${r.status} ${r.text.slice(0, 160)}`);
      };
      const warm = await openLoop(Math.min(RATE, 100), WARM, (i) => register(i), 30_000);
      if (warm.failed > 0) throw new Error(`warm-up failed: ${JSON.stringify(warm.failures)}`);
      const inspector = HEAP_SAMPLE ? new Session() : undefined;
      inspector?.connect();
      await inspector?.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: ALLOCATIONS, includeObjectsCollectedByMinorGC: ALLOCATIONS });
      const heap0 = heapAfterGc();
      if (HEAP_SNAPSHOT) writeHeapSnapshot(`${HEAP_SNAPSHOT}-0.heapsnapshot`);
      const cpu0 = process.cpuUsage();
      const kamPid = kamailio.pid;
      const kam0 = kamPid === undefined ? null : groupCpuMs(kamPid);
      const window0 = process.hrtime.bigint() / 1000n;
      const r = await openLoop(RATE, COUNT, (i, at) => register(WARM + i).then(() => performance.now() - at), 40_000);
      const cpu = process.cpuUsage(cpu0);
      const kam1 = kamPid === undefined ? null : groupCpuMs(kamPid);
      const window1 = process.hrtime.bigint() / 1000n;
      const lat = summarise(r.ok, 1);
      const done = r.ok.length;
      if (SETTLE_MS > 0) await sleep(SETTLE_MS);
      const heap1 = heapAfterGc();
      if (HEAP_SNAPSHOT) writeHeapSnapshot(`${HEAP_SNAPSHOT}-1.heapsnapshot`);
      if (inspector) {
        const { profile } = await inspector.post('HeapProfiler.stopSampling');
        writeFileSync(HEAP_SAMPLE, JSON.stringify(profile));
        inspector.disconnect();
      }
      const trips = ROUND_TRIPS > 0 && redis ? await countRoundTrips(redis.client(), (i) => register(WARM + COUNT + i)) : null;
      console.log(
        JSON.stringify({
          store: STORE,
          offeredPerS: RATE,
          count: COUNT,
          ok: done,
          failed: r.failed,
          failures: r.failures,
          achievedPerS: Math.round((done / r.wallMs) * 1000),
          latencyMs: { p50: lat.p50, p99: lat.p99, max: lat.max },
          heapBytesPerRegistration: heap0 === undefined || heap1 === undefined ? null : Math.round((heap1 - heap0) / Math.max(1, done)),
          cpuUsPerRegistration: Math.round((cpu.user + cpu.system) / Math.max(1, done)),
          storeRoundTripsPerRegistration: trips,
          kamailioCpuUsPerRegistration: kam0 === null || kam1 === null ? null : Math.round(((kam1 - kam0) * 1000) / Math.max(1, done)),
          // the measured span on the clock of a --cpu-prof profile (µs), to cut its samples to it
          profileWindowUs: [String(window0), String(window1)],
        }),
      );
    } finally {
      await gw.close();
    }
  } finally {
    await stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
