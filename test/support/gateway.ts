/**
 * Boots the real gateway (the same `createApp` as `main.ts`) against the test lab, in-process,
 * and gives tests a small HTTP client (Fastify inject: the full HTTP pipeline without a socket).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '../../src/config/app-config';
import { createApp } from '../../src/bootstrap';
import { freePort, LAB_SUBSCRIBERS } from './lab';
import type { Lab } from './lab';
import type { TestIdp } from './auth';

export interface GatewayUnderTest {
  app: NestFastifyApplication;
  sipPort: number;
  env: Record<string, string>;
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string>; rawBody?: string }): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: unknown;
  text: string;
}

/** A SIP_CREDENTIALS_FILE with the lab's subscribers (overrides allowed, e.g. a wrong password). */
export function writeCredentialsFile(overrides: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-creds-'));
  const file = join(dir, 'sip-credentials.json');
  const entries = Object.fromEntries(Object.entries({ ...LAB_SUBSCRIBERS, ...overrides }).map(([n, password]) => [n, { password }]));
  writeFileSync(file, JSON.stringify(entries));
  return file;
}

/**
 * The settings every gateway under test needs against the lab: the test IdP, Kamailio as outbound
 * proxy, loopback SIP, the lab's subscribers (plus `credentials`), private (loopback) sinks allowed.
 */
export function labGatewayEnv(idp: TestIdp, kamailio: Pick<Lab['kamailio'], 'outboundProxy'>, domain: string, credentials: Record<string, string> = {}): Record<string, string> {
  return {
    AUTH_JWKS_URL: idp.jwksUrl,
    AUTH_ISSUER: idp.issuer,
    AUTH_AUDIENCE: idp.audience,
    SIP_OUTBOUND_PROXY: kamailio.outboundProxy,
    SIP_DOMAIN: domain,
    SIP_LISTEN_ADDRESS: '127.0.0.1',
    SIP_CREDENTIALS_FILE: writeCredentialsFile(credentials),
    EVENTS_ALLOW_PRIVATE_SINKS: 'true',
  };
}

export async function startGateway(lab: Lab, idp: TestIdp, env: Record<string, string> = {}): Promise<GatewayUnderTest> {
  const sipPort = Number(env.SIP_LISTEN_PORT ?? (await freePort('both')));
  const fullEnv: Record<string, string> = {
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...labGatewayEnv(idp, lab.kamailio, lab.domain),
    ...(lab.redis && { REDIS_URL: lab.redis.url, REDIS_KEY_PREFIX: `t${Date.now().toString(36)}:` }),
    ...env,
    SIP_LISTEN_PORT: String(sipPort),
  };
  const app = await createApp(loadConfig(fullEnv));
  // a failed boot still has bound sockets and timers of the modules that did start: close them
  await app.init().catch(async (err: unknown) => {
    await app.close().catch(() => undefined);
    throw err;
  });
  await app.getHttpAdapter().getInstance().ready();
  const fastify = app.getHttpAdapter().getInstance();
  return {
    app,
    sipPort,
    env: fullEnv,
    async request(method, url, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let payload: string | undefined = opts.rawBody;
      if (opts.body !== undefined) {
        payload = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fastify.inject({ method, url, headers, ...(payload !== undefined && { payload }) });
      let body: unknown;
      try {
        body = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        body = res.body;
      }
      return { status: res.statusCode, headers: res.headers, body, text: res.body };
    },
    async close() {
      await app.close();
    },
  };
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${last instanceof Error ? last.message : inspect(last)}`}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The gateway as its own OS process (`src/main.ts` under ts-node), for tests that need two processes. */
export interface GatewayProcess {
  base: string;
  sipPort: number;
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<TestResponse>;
  /** PID while it runs */
  readonly pid: number | undefined;
  /** SIGTERM, SIGKILL after `graceMs` (default 3000); resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL (a crash: no drain, nothing released); resolves once the process is gone. */
  kill(): Promise<void>;
  /** the file its stdout and stderr go to */
  readonly logFile: string;
  /** resolves with its exit code or signal once it is gone, whatever ended it */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function spawnGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const { ManagedProcess, makeLabDir, REPO_ROOT } = await import('./proc');
  const httpPort = await freePort('tcp');
  const sipPort = Number(env.SIP_LISTEN_PORT ?? (await freePort('both')));
  const dir = makeLabDir('gateway-process');
  const proc = await ManagedProcess.start({
    name: 'gateway',
    command: process.execPath,
    args: ['--require', 'ts-node/register/transpile-only', join(REPO_ROOT, 'src', 'main.ts')],
    cwd: REPO_ROOT,
    logFile: join(dir, 'gateway.log'),
    env: { ...process.env, ...env, PORT: String(httpPort), HOST: '127.0.0.1', SIP_LISTEN_PORT: String(sipPort), LOG_LEVEL: env.LOG_LEVEL ?? 'warn' },
  });
  const base = `http://127.0.0.1:${httpPort}`;
  await eventually(
    async () =>
      (await fetch(`${base}/health/live`).then(
        (r) => r.ok,
        () => false,
      )) || undefined,
    30_000,
    'gateway process to listen',
  );
  return {
    base,
    sipPort,
    async request(method, url, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${base}${url}`, { method, headers, ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }) });
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      return { status: res.status, headers: Object.fromEntries(res.headers), body, text };
    },
    get pid() {
      return proc.pid;
    },
    logFile: proc.logFile,
    exited: proc.exited,
    async stop(graceMs?: number) {
      await proc.stop(graceMs);
    },
    async kill() {
      await proc.kill();
    },
  };
}
