/**
 * Log lines are buffered before they reach stdout (README "Logs"): a gateway process that ends —
 * stopped with SIGTERM, or crashing on an uncaught exception — still has every line it logged on
 * stdout, each a whole JSON object. Real processes (src/main.ts), Kamailio and Redis from the lab.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createTestIdp, TestIdp } from '../support/auth';
import { GatewayProcess, spawnGatewayProcess, labGatewayEnv } from '../support/gateway';
import { KamailioInstance, LAB_DOMAIN, RedisInstance, startKamailio, startRedis } from '../support/lab';
import { makeLabDir } from '../support/proc';

const REQUESTS = 300;

/** Every stdout line of the process that is a JSON object (stderr lines, e.g. Node's crash report, are not). */
function jsonLines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('buffered logs reach stdout when the process ends', () => {
  let idp: TestIdp;
  let redis: RedisInstance;
  let kamailio: KamailioInstance;
  let env: Record<string, string>;
  let gw: GatewayProcess | undefined;

  beforeAll(async () => {
    idp = await createTestIdp();
    [redis, kamailio] = await Promise.all([startRedis(), startKamailio()]);
    env = {
      ...labGatewayEnv(idp, kamailio, LAB_DOMAIN),
      REDIS_URL: redis.url,
      // every response gets its access line at debug
      LOG_LEVEL: 'debug',
    };
  }, 60_000);

  afterEach(async () => {
    await gw?.kill();
    gw = undefined;
  });

  afterAll(async () => {
    await Promise.allSettled([kamailio?.stop(), redis?.stop()]);
  });

  /** REQUESTS requests, each with its own x-correlator; returns the correlators. */
  async function logRequests(p: GatewayProcess): Promise<string[]> {
    const correlators = Array.from({ length: REQUESTS }, () => randomUUID());
    for (const correlator of correlators) {
      const res = await p.request('GET', `/webrtc-registration/v0.4/sessions/${randomUUID()}`, { headers: { 'x-correlator': correlator } });
      expect(res.status).toBe(401);
    }
    return correlators;
  }

  const accessLinesOf = (lines: Array<Record<string, unknown>>, correlators: string[]): number => {
    const wanted = new Set(correlators);
    return lines.filter((l) => l.msg === 'request completed' && wanted.has(l.correlator as string)).length;
  };

  it('has every line on stdout after SIGTERM, the shutdown lines last', async () => {
    gw = await spawnGatewayProcess({ ...env, REDIS_KEY_PREFIX: `lf${Date.now().toString(36)}:` });
    const correlators = await logRequests(gw);
    await gw.stop(15_000);
    expect((await gw.exited).signal).not.toBe('SIGKILL');
    const lines = jsonLines(gw.logFile);
    expect(accessLinesOf(lines, correlators)).toBe(REQUESTS);
    // logged during shutdown, after every request: the buffer was written out at the very end
    expect(lines.at(-1)?.msg).toMatch(/cluster lease released|shutdown/);
  });

  it('has every line on stdout when the process dies of an uncaught exception', async () => {
    // preloaded into the gateway process: SIGUSR2 throws outside any handler (a bug), and Node exits with 1
    const crash = join(makeLabDir('log-flush'), 'crash-on-sigusr2.js');
    writeFileSync(crash, "process.on('SIGUSR2', () => setImmediate(() => { throw new Error('crash for the log flush test'); }));\n");
    gw = await spawnGatewayProcess({ ...env, REDIS_KEY_PREFIX: `lc${Date.now().toString(36)}:`, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${crash}`.trim() });
    const correlators = await logRequests(gw);
    process.kill(gw.pid as number, 'SIGUSR2');
    const exit = await gw.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(readFileSync(gw.logFile, 'utf8')).toContain('crash for the log flush test');
    expect(accessLinesOf(jsonLines(gw.logFile), correlators)).toBe(REQUESTS);
  });
});
