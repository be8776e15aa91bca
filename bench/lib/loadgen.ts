/**
 * The load generator: virtual apps (one load-test subscriber each) talking to the gateway over
 * HTTP keep-alive (undici Pool), an event sink (node:http) that receives their session-status
 * CloudEvents, and an open-loop scheduler: work starts at fixed times (t0 + i/rate) whatever
 * happened to earlier work, and every latency is measured from that scheduled time, so a slow
 * gateway cannot hide its latency by slowing the generator down (no coordinated omission).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { loadTestSubscriber } from '../../test/support/lab';
import type { TestIdp } from '../../test/support/auth';
import { lagP99Ms } from './compare';
import { errMsg, sleep, withTimeout } from './stats';

/** A SIP_CREDENTIALS_FILE in `dir` for the lab's load-test subscribers `indexes` (`+1708600NNNN` / `loadtest`); returns its path. */
export function writeLoadTestCredentials(dir: string, indexes: Iterable<number>): string {
  const creds: Record<string, { password: string }> = {};
  for (const i of indexes) {
    const s = loadTestSubscriber(i);
    creds[s.user] = { password: s.password };
  }
  const file = join(dir, 'sip-credentials.json');
  writeFileSync(file, JSON.stringify(creds));
  return file;
}

export const SESSION_STATUS_TYPE = 'org.camaraproject.webrtc-events.v0.session-status';
export const APP_SCOPES = [
  'webrtc-registration:sessions:create',
  'webrtc-registration:sessions:read',
  'webrtc-call-handling:sessions:create',
  'webrtc-call-handling:sessions:read',
  'webrtc-call-handling:sessions:delete',
  `webrtc-events:${SESSION_STATUS_TYPE}:create`,
  'webrtc-events:read',
].join(' ');

export const CALLEE = 'tel:+15550009999';
const OFFER_SDP = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:bnch',
  'a=ice-pwd:benchbenchbenchbenchbe',
  'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
  'a=setup:actpass',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  '',
].join('\r\n');

export interface VirtualApp {
  index: number;
  phoneNumber: string;
  token: string;
  deviceId: string;
  registrationId?: string;
  subscriptionId?: string;
  /** which gateway process of a multi-process variant this app talks to (its registration lives there) */
  gateway?: number;
}

export interface HttpResult {
  status: number;
  body: unknown;
}

/** HTTP keep-alive client to the gateway. */
export class GatewayClient {
  readonly pool: Pool;
  constructor(baseUrl: string, connections: number) {
    this.pool = new Pool(baseUrl, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  }

  async call(method: 'GET' | 'POST' | 'DELETE', path: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
    const res = await this.pool.request({
      method,
      path,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.statusCode, body: parsed };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function field(o: unknown, k: string): unknown {
  return o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined;
}

function describeError(r: HttpResult): string {
  const code = field(r.body, 'code');
  const msg = field(r.body, 'message');
  return `HTTP ${r.status}${typeof code === 'string' ? ` ${code}` : ''}${typeof msg === 'string' ? `: ${msg.slice(0, 160)}` : ''}`;
}

/** Signs one token per app (phone_number = its load-test subscriber). */
export async function makeApps(idp: TestIdp, count: number, offset = 0): Promise<VirtualApp[]> {
  const apps: VirtualApp[] = [];
  for (let i = offset; i < offset + count; i++) {
    const { user } = loadTestSubscriber(i);
    apps.push({ index: i, phoneNumber: user, token: await idp.token({ phone_number: user, scope: APP_SCOPES, expiresIn: '2h' }), deviceId: randomUUID() });
  }
  return apps;
}

// ---------------------------------------------------------------------------------------- sink

interface SeenEvent {
  status: string;
  at: number;
}

class SessionWatch {
  readonly seen: SeenEvent[] = [];
  private waiters: Array<{ status: string; res: (at: number) => void }> = [];
  push(e: SeenEvent): void {
    this.seen.push(e);
    this.waiters = this.waiters.filter((w) => {
      if (w.status !== e.status) return true;
      w.res(e.at);
      return false;
    });
  }
  wait(status: string): Promise<number> {
    const hit = this.seen.find((s) => s.status === status);
    if (hit) return Promise.resolve(hit.at);
    return new Promise((res) => this.waiters.push({ status, res }));
  }
}

/** The apps' event sink: answers 204 at once, then routes session-status events by mediaSessionId. */
export class EventSink {
  private server: Server | undefined;
  private readonly watches = new Map<string, SessionWatch>();
  port = 0;
  received = 0;
  malformed = 0;
  byStatus: Record<string, number> = {};

  async start(): Promise<void> {
    this.server = createServer({ keepAliveTimeout: 60_000 }, (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = performance.now();
        res.statusCode = 204;
        res.end();
        this.onEvent(Buffer.concat(chunks).toString('utf8'), at);
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((res) => this.server?.listen(0, '127.0.0.1', () => res()));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  url(app: VirtualApp): string {
    return `http://127.0.0.1:${this.port}/sink/${app.index}`;
  }

  private onEvent(text: string, at: number): void {
    this.received++;
    let ev: unknown;
    try {
      ev = JSON.parse(text);
    } catch {
      this.malformed++;
      return;
    }
    const data = field(ev, 'data');
    const id = field(data, 'mediaSessionId');
    const status = field(data, 'status');
    if (typeof id !== 'string' || typeof status !== 'string') {
      if (field(ev, 'type') === SESSION_STATUS_TYPE) this.malformed++;
      return;
    }
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    this.watch(id).push({ status, at });
  }

  /** The watch of a session (created on first use: events may arrive before the POST answer). */
  watch(id: string): SessionWatch {
    let w = this.watches.get(id);
    if (!w) {
      w = new SessionWatch();
      this.watches.set(id, w);
    }
    return w;
  }

  forget(id: string): void {
    this.watches.delete(id);
  }

  /** sessions with events but no caller waiting (leak check of the harness itself) */
  get tracked(): number {
    return this.watches.size;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((res) => s.close(() => res()));
  }
}

// ------------------------------------------------------------------------------ app lifecycle

export async function registerApp(client: GatewayClient, app: VirtualApp): Promise<void> {
  const r = await client.call('POST', '/webrtc-registration/v0.4/sessions', app.token, { deviceId: app.deviceId });
  const id = field(r.body, 'registrationId');
  if (r.status !== 201 && r.status !== 200) throw new Error(`registration: ${describeError(r)}`);
  if (typeof id !== 'string') throw new Error('registration: no registrationId in the answer');
  app.registrationId = id;
}

export async function subscribeApp(client: GatewayClient, sink: EventSink, app: VirtualApp): Promise<void> {
  const r = await client.call('POST', '/webrtc-events/v0.3/subscriptions', app.token, {
    protocol: 'HTTP',
    sink: sink.url(app),
    types: [SESSION_STATUS_TYPE],
    config: { subscriptionDetail: { deviceId: app.deviceId } },
  });
  const id = field(r.body, 'id') ?? field(r.body, 'subscriptionId');
  if (r.status !== 201 && r.status !== 200) throw new Error(`subscription: ${describeError(r)}`);
  app.subscriptionId = typeof id === 'string' ? id : 'unknown';
}

export interface CallTiming {
  /** POST /sessions answered, ms after the scheduled start */
  post: number;
  /** Connected seen at the sink, ms after the scheduled start */
  connected: number;
  /** undefined when the far end's 180 was overtaken by its 200 (Kamailio's UDP workers can reorder them; the gateway then ignores the late 180 and reports Connected only). */
  ringing: number | undefined;
  /** DELETE answered, ms after it was sent */
  del: number;
  /** Terminated seen at the sink, ms after DELETE was sent */
  terminated: number;
}

export interface CallOptions {
  holdMs: number;
  /** max wait for each step (POST, Connected, DELETE, Terminated) */
  stepTimeoutMs: number;
  /** called once Connected is seen (before the hold) */
  onConnected?: () => void;
  /** if set, the hold lasts until this resolves instead of holdMs */
  holdUntil?: Promise<void>;
}

/** One full call: POST → Ringing, Connected at the sink → hold → DELETE → Terminated at the sink. */
export async function fullCall(client: GatewayClient, sink: EventSink, app: VirtualApp, scheduledAt: number, o: CallOptions): Promise<CallTiming> {
  if (!app.registrationId) throw new Error('app not registered');
  const post = await withTimeout(
    client.call(
      'POST',
      '/webrtc-call-handling/v0.4/sessions',
      app.token,
      { originatorAddress: `tel:${app.phoneNumber}`, receiverAddress: CALLEE, offer: { sdp: OFFER_SDP } },
      { registrationId: app.registrationId },
    ),
    o.stepTimeoutMs,
    'POST /sessions',
  );
  const tPost = performance.now();
  if (post.status !== 201 && post.status !== 200) throw new Error(`POST /sessions: ${describeError(post)}`);
  const id = field(post.body, 'mediaSessionId');
  if (typeof id !== 'string') throw new Error('POST /sessions: no mediaSessionId');
  const w = sink.watch(id);
  try {
    const tConn = await withTimeout(w.wait('Connected'), o.stepTimeoutMs, 'Connected event').catch((e: unknown) => {
      const got = w.seen.map((s) => s.status).join(',') || 'none';
      throw new Error(`${errMsg(e)} (events seen: ${got})`);
    });
    const ring = w.seen.find((s) => s.status === 'Ringing');
    o.onConnected?.();
    if (o.holdUntil) await o.holdUntil;
    else if (o.holdMs > 0) await sleep(o.holdMs);
    const tDel0 = performance.now();
    const del = await withTimeout(client.call('DELETE', `/webrtc-call-handling/v0.4/sessions/${id}`, app.token), o.stepTimeoutMs, 'DELETE /sessions');
    const tDel = performance.now();
    if (del.status !== 204 && del.status !== 200) throw new Error(`DELETE /sessions: ${describeError(del)}`);
    const tTerm = await withTimeout(w.wait('Terminated'), o.stepTimeoutMs, 'Terminated event');
    return { post: tPost - scheduledAt, ringing: ring ? ring.at - scheduledAt : undefined, connected: tConn - scheduledAt, del: tDel - tDel0, terminated: tTerm - tDel0 };
  } finally {
    // late events of this session are ignored (a new watch would be created and never read: keep it bounded)
    setTimeout(() => sink.forget(id), 2000).unref();
  }
}

// ------------------------------------------------------------------------------- open loop

export interface OpenLoopResult<T> {
  scheduled: number;
  ok: T[];
  failures: Record<string, number>;
  failed: number;
  /** work not even started because the phase's deadline passed (counted as failed) */
  wallMs: number;
  /** how late the generator started work (its own lag): max ms */
  maxStartLagMs: number;
  /** p99 of that lag, ms */
  startLagP99Ms: number;
  /** actual start of the first and the last job (performance.now()) */
  firstStartAt: number;
  lastStartAt: number;
}

/**
 * Starts `count` jobs at `rate`/s (job i at t0 + i/rate), never waiting for earlier jobs; then
 * waits for all of them, at most `drainTimeoutMs` after the last start.
 */
export async function openLoop<T>(rate: number, count: number, job: (i: number, scheduledAt: number) => Promise<T>, drainTimeoutMs: number): Promise<OpenLoopResult<T>> {
  const t0 = performance.now() + 20;
  const ok: T[] = [];
  const failures: Record<string, number> = {};
  let failed = 0;
  let maxLag = 0;
  const lags: number[] = [];
  let firstStartAt = NaN;
  let lastStartAt = NaN;
  const running: Array<Promise<void>> = [];
  let i = 0;
  const classify = (e: unknown): string =>
    errMsg(e)
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
      .replace(/\+1708600\d{4}/g, '<subscriber>')
      .slice(0, 200);
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (i < count) {
        const at = t0 + (i * 1000) / rate;
        if (at > now) break;
        maxLag = Math.max(maxLag, now - at);
        lags.push(now - at);
        if (i === 0) firstStartAt = now;
        lastStartAt = now;
        const n = i++;
        running.push(
          job(n, at).then(
            (v) => {
              ok.push(v);
            },
            (e: unknown) => {
              failed++;
              const k = classify(e);
              failures[k] = (failures[k] ?? 0) + 1;
            },
          ),
        );
      }
      if (i >= count) return resolve();
      const nextAt = t0 + (i * 1000) / rate;
      setTimeout(tick, Math.max(0, Math.min(5, nextAt - performance.now())));
    };
    tick();
  });
  const all = Promise.all(running).then(() => true);
  // the drain timer is cleared once all settle: it would keep this phase's state alive for drainTimeoutMs
  let drainTimer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((res) => (drainTimer = setTimeout(() => res(false), drainTimeoutMs)));
  const drained = await Promise.race([all, deadline]).finally(() => clearTimeout(drainTimer));
  const notDone = drained ? 0 : count - ok.length - failed;
  if (notDone > 0) {
    failed += notDone;
    failures['still in flight at the end of the drain'] = notDone;
  }
  return { scheduled: count, ok: ok.slice(), failures: { ...failures }, failed, wallMs: performance.now() - t0, maxStartLagMs: maxLag, startLagP99Ms: lagP99Ms(lags), firstStartAt, lastStartAt };
}
