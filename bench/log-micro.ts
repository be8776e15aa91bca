/**
 * Logging and metrics micro-benchmark: CPU µs per log line (pino with the gateway's formatters and
 * redaction, written to a file) with the former destination (one write per line) and the buffered
 * one, one line per event-loop turn as on the call path; and CPU µs per histogram observation with
 * prom-client's Histogram and with BoundHistogram. Variants run alternately; prints figures only.
 * Run: `node --require ts-node/register/transpile-only bench/log-micro.ts [lines] [observations]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Histogram, Registry } from 'prom-client';
import { createRootLogger, LOG_BUFFER_BYTES, LOG_FLUSH_INTERVAL_MS } from '../src/common/logging/logging.module';
import { BoundHistogram } from '../src/observability/metrics/bound-histogram';

const LINES = Number(process.argv[2] ?? 20_000);
const OBSERVATIONS = Number(process.argv[3] ?? 1_000_000);
const ROUNDS = 3;

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function logRun(buffered: boolean, dir: string, round: number): Promise<number> {
  const file = join(dir, `${buffered ? 'buffered' : 'per-line'}-${round}.log`);
  const dest = buffered
    ? pino.destination({ dest: file, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_INTERVAL_MS })
    : pino.destination({ dest: file, sync: false, minLength: 0 }); // pino's default stdout destination before
  await new Promise((r) => (dest as unknown as { once(e: string, f: () => void): void }).once('ready', () => r(undefined)));
  const log = createRootLogger('info', dest).child({ mediaSessionId: '6f1c2a9e-0000-4000-8000-000000000001', callId: 'a84b4c76e66710@gw.example.net' });
  const start = cpuUs();
  for (let i = 0; i < LINES; i++) {
    log.info({ sipCode: 200, from: 'Ringing', to: 'Connected' }, `session 6f1c2a9e Ringing → Connected (200)`);
    await turn();
  }
  await new Promise<void>((r) => (dest as unknown as { flush(cb: () => void): void; end(): void }).flush(() => r()));
  const used = cpuUs() - start;
  // the same loop without logging, subtracted: only the line's own cost remains
  const idleStart = cpuUs();
  for (let i = 0; i < LINES; i++) await turn();
  const idle = cpuUs() - idleStart;
  (dest as unknown as { end(): void }).end();
  return (used - idle) / LINES;
}

function histogramRun(bound: boolean): number {
  const registry = new Registry();
  const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
  const ops = ['session.create', 'session.update', 'dialog.write', 'events.append', 'registration.get'];
  const h = bound
    ? new BoundHistogram('store_seconds', 'h', ['store', 'operation'], buckets, [registry])
    : new Histogram({ name: 'store_seconds', help: 'h', labelNames: ['store', 'operation'], buckets, registers: [registry] });
  const start = cpuUs();
  for (let i = 0; i < OBSERVATIONS; i++) h.observe({ store: 'redis', operation: ops[i % ops.length] ?? 'x' }, (i % 100) / 10_000);
  return (cpuUs() - start) / OBSERVATIONS;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'log-micro-'));
  const figures: Record<string, number[]> = { 'log line, one write per line': [], 'log line, buffered 4 KiB': [], 'observe, prom-client Histogram': [], 'observe, BoundHistogram': [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      figures['log line, one write per line']?.push(await logRun(false, dir, round));
      figures['log line, buffered 4 KiB']?.push(await logRun(true, dir, round));
      figures['observe, prom-client Histogram']?.push(histogramRun(false));
      figures['observe, BoundHistogram']?.push(histogramRun(true));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${LINES} log lines (one per event-loop turn), ${OBSERVATIONS} observations, ${ROUNDS} alternating rounds; CPU µs each (median of rounds)`);
  for (const [name, xs] of Object.entries(figures)) {
    const sorted = [...xs].sort((a, b) => a - b);
    console.log(`${name.padEnd(34)} ${(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN).toFixed(3)}   (rounds: ${xs.map((x) => x.toFixed(3)).join(', ')})`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
