/**
 * A gateway process SIGKILLed in the middle of its calls, and what the survivor sharing its Redis
 * does with them, on real parts: two gateway processes (A spawned from main.ts and killed, B
 * in-process), Redis, Kamailio with a long fr_inv_timer (a 408 from Kamailio cannot pass for our
 * answer), SIPp on both sides.
 *
 * - an incoming INVITE A had not answered gets 480 from B, built from the request stored with the
 *   session (RFC 3261 §18.2.2), and B delivers the session's events without waiting for the delivery
 *   lease A held;
 * - an established call is moved to B by a target refresh (RFC 3261 §12.2.1.2), B runs its RFC 4028
 *   session timer as the refresher, and the far end's BYE reaches B.
 */
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { Cluster } from '../../src/cluster/cluster';
import { keys } from '../../src/store/redis/redis-client';
import { createTestIdp, TestIdp } from '../support/auth';
import { API, appScopes, AUDIO_OFFER, eventType } from '../support/camara-app';
import { eventually, GatewayProcess, GatewayUnderTest, spawnGatewayProcess, startGateway, TestResponse } from '../support/gateway';
import { freePort, KamailioInstance, Lab, LAB_DOMAIN, RedisInstance, runSippUac, SippUas, startKamailio, startRedis, startSippUas } from '../support/lab';
import { SipExchange, TracedMessage, tracedMessages } from '../support/sip-trace';

const ALICE = '+17085852753';
const CAROL = '+17085850001';
/** Kamailio routes every other number to the far end of this spec (uas-answer-refresh-then-bye.xml). */
const FAR_END = '+15550009999';
const EVENTS = ['session-invitation', 'session-status'];

/** A webhook sink that can hold its answers: a request it holds keeps the sender's delivery lease busy. */
interface HoldingSink {
  url: string;
  hold: boolean;
  readonly received: Array<Record<string, unknown> & { type: string; data: Record<string, unknown> }>;
  waitFor(pred: (e: HoldingSink['received'][number]) => boolean, timeoutMs: number, what: string): Promise<HoldingSink['received'][number]>;
  close(): Promise<void>;
}

async function startHoldingSink(): Promise<HoldingSink> {
  const held: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      try {
        sink.received.push(JSON.parse(raw) as HoldingSink['received'][number]);
      } catch {
        /* not JSON: not recorded */
      }
      if (sink.hold) held.push(res);
      else res.writeHead(204).end();
    });
  });
  const sink: HoldingSink = {
    url: '',
    hold: false,
    received: [],
    waitFor: (pred, timeoutMs, what) => eventually(async () => sink.received.find(pred), timeoutMs, what),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  return sink;
}

type Requester = { request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<TestResponse> };
interface Party {
  token: string;
  registrationId: string;
  subscriptionId: string;
}

describe('cluster adoption after a SIGKILL (real processes, Redis, Kamailio, SIPp)', () => {
  let redisLab: RedisInstance;
  let kamailio: KamailioInstance;
  let uas: SippUas;
  let idp: TestIdp;
  let redis: Redis;
  let b: GatewayUnderTest;
  const prefix = `adopt${Date.now().toString(36)}:`;
  const procs: GatewayProcess[] = [];
  const sinks: HoldingSink[] = [];

  const ownerOf = async (id: string): Promise<string | undefined> => {
    const owner = await redis.hget(keys(prefix).session(id), 'owner');
    return owner ? (JSON.parse(owner) as string) : undefined;
  };

  /** Registers `phone` through `gw` (its Contact names that instance) and subscribes `sinkUrl` to its events. */
  async function party(gw: Requester, phone: string, sinkUrl: string): Promise<Party> {
    const types = EVENTS.map(eventType);
    const token = await idp.token({ phone_number: phone, scope: appScopes(types) });
    const deviceId = randomUUID();
    const reg = await gw.request('POST', API.registrations, { token, body: { deviceId } });
    expect(reg.status).toBe(201);
    const sub = await gw.request('POST', API.subscriptions, { token, body: { protocol: 'HTTP', sink: sinkUrl, types, config: { subscriptionDetail: { deviceId } } } });
    expect(sub.status).toBe(201);
    return { token, registrationId: (reg.body as { registrationId: string }).registrationId, subscriptionId: (sub.body as { id: string }).id };
  }

  async function sink(): Promise<HoldingSink> {
    const s = await startHoldingSink();
    sinks.push(s);
    return s;
  }

  /** Instance A: main.ts in its own process, on the same Redis and key prefix as B. */
  async function processA(): Promise<GatewayProcess> {
    const a = await spawnGatewayProcess({ ...b.env, SIP_LISTEN_PORT: String(await freePort('both')) });
    procs.push(a);
    return a;
  }

  beforeAll(async () => {
    [redisLab, uas] = await Promise.all([startRedis(), startSippUas('uas-answer-refresh-then-bye', { name: 'refresh-bye' })]);
    // a ringing INVITE would get Kamailio's 408 only after 120 s: an earlier final response is ours
    kamailio = await startKamailio({ uasPort: uas.port, frInvTimerMs: 120_000 });
    idp = await createTestIdp();
    redis = new Redis(redisLab.url);
    const lab = { kamailio, domain: LAB_DOMAIN, redis: redisLab } as unknown as Lab;
    b = await startGateway(lab, idp, {
      REDIS_KEY_PREFIX: prefix,
      CLUSTER_LEASE_MS: '1500',
      SIP_RING_TIMEOUT_MS: '60000',
      // RFC 4028 with a short interval: we ask for 10 s and accept down to 6 s
      SIP_MIN_SE_FLOOR_S: '6',
      SIP_MIN_SE_S: '6',
      SIP_SESSION_EXPIRES_S: '10',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
  });
  afterAll(async () => {
    redis?.disconnect();
    await b?.close().catch(() => undefined);
    for (const p of procs) await p.stop().catch(() => undefined);
    await Promise.all(sinks.map((s) => s.close()));
    await Promise.allSettled([uas?.stop(), kamailio?.stop(), redisLab?.stop()]);
  });

  it('an incoming INVITE A had not answered gets 480 from B within seconds, and its events go out without waiting for A’s delivery lease', async () => {
    const a = await processA();
    const carolSink = await sink();
    const carol = await party(a, CAROL, carolSink.url);
    // from now on the sink holds its answers: the invitation A delivers keeps A's lease on the queue
    carolSink.hold = true;
    let trace: (() => Promise<string>) | undefined;
    const uac = runSippUac({ scenario: 'uac-call-unanswered-gets-480', proxyPort: kamailio.port, callee: CAROL, caller: '+15550005555', timeoutS: 60, onTrace: (m) => (trace = m) });
    const invitation = await carolSink.waitFor((e) => e.type === eventType('session-invitation'), 15_000, 'invitation (held by the sink)');
    const id = String(invitation.data.mediaSessionId);
    const lost = await ownerOf(id);
    expect(lost).toBeDefined();
    expect(lost).not.toBe(b.app.get(Cluster).instanceId);
    // the lease A holds on the queue, under the id B will adopt it by
    expect(await redis.get(keys(prefix).queueLease(carol.subscriptionId))).toBe(lost);
    const messages = async (): Promise<TracedMessage[]> => tracedMessages(trace ? await trace() : '');
    const invite = await eventually(async () => (await messages()).find((m) => m.direction === 'sent' && m.method === 'INVITE' && m.status === undefined), 5000, 'INVITE sent');

    await a.kill();
    const killedAt = Date.now();
    carolSink.hold = false;

    // RFC 3261 §18.2.2: B answers the INVITE A held, from the request stored with the session
    const final = await eventually(
      async () => (await messages()).find((m) => m.direction === 'received' && m.method === 'INVITE' && m.callId === invite.callId && m.cseq === invite.cseq && (m.status ?? 0) >= 200),
      15_000,
      'final response to the INVITE',
    );
    expect(final.status).toBe(480);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect((await uac).exitCode).toBe(0);

    // the Failed event, delivered by B well before A's 30 s delivery lease would have lapsed
    const failed = await carolSink.waitFor((e) => e.data.mediaSessionId === id && e.data.status === 'Failed', 8000, 'Failed event');
    expect(Date.now() - killedAt).toBeLessThan(8000);
    expect(String(failed.data.reason)).toContain(`gateway instance ${lost} was lost during call setup`);
    expect(await ownerOf(id)).toBe(b.app.get(Cluster).instanceId);
    // at-least-once: the invitation A never saw acknowledged went out again, before the Failed event
    const forCall = carolSink.received.filter((e) => e.data.mediaSessionId === id).map((e) => e.type.split('.').pop());
    expect(forCall.slice(0, 2)).toEqual(['session-invitation', 'session-invitation']);
  });

  it('an established call of A is moved to B by a target refresh; B refreshes its session timer and gets the far end’s BYE', async () => {
    const a = await processA();
    const aliceSink = await sink();
    const alice = await party(a, ALICE, aliceSink.url);
    const exchange = await SipExchange.start(uas);
    const created = await a.request('POST', API.sessions, {
      token: alice.token,
      headers: { registrationid: alice.registrationId },
      body: { originatorAddress: `tel:${ALICE}`, receiverAddress: `tel:${FAR_END}`, offer: { sdp: AUDIO_OFFER } },
    });
    expect(created.status).toBe(201);
    const id = (created.body as { mediaSessionId: string }).mediaSessionId;
    await aliceSink.waitFor((e) => e.data.mediaSessionId === id && e.data.status === 'Connected', 10_000, 'Connected');
    const invite = await exchange.received('INVITE');
    const ok = await exchange.finalResponseTo(invite);
    expect(ok.headers['session-expires']?.[0]).toBe('10;refresher=uac');

    await a.kill();
    const killedAt = Date.now();
    const bContact = `:${b.sipPort}`;

    // RFC 3261 §12.2.1.2: a re-INVITE from B naming B's Contact, our SDP unchanged (RFC 3264 §8)
    const reInvite = (after: TracedMessage, what: string): Promise<TracedMessage> =>
      exchange.waitFor(what, (m) => m.direction === 'received' && m.status === undefined && m.method === 'INVITE' && m.callId === invite.callId && m.cseq > after.cseq, 15_000);
    const targetRefresh = await reInvite(invite, 'target refresh');
    const refreshedAt = Date.now();
    expect(refreshedAt - killedAt).toBeLessThan(8000);
    expect(targetRefresh.headers['contact']?.[0]).toContain(bContact);
    expect(targetRefresh.body).toBe(invite.body);
    // RFC 4028 §7.4: it is a session refresh too, stating the stored interval with us as refresher
    expect(targetRefresh.headers['session-expires']?.[0]).toBe('10;refresher=uac');
    expect((await exchange.finalResponseTo(targetRefresh)).status).toBe(200);
    await eventually(async () => (await ownerOf(id)) === b.app.get(Cluster).instanceId, 5000, 'owner B');

    // RFC 4028 §10: B is the refresher now: the next refresh half the interval (5 s) later
    const sessionRefresh = await reInvite(targetRefresh, 'session refresh by B');
    expect(Date.now() - refreshedAt).toBeGreaterThanOrEqual(4000);
    expect(sessionRefresh.headers['contact']?.[0]).toContain(bContact);
    expect((await exchange.finalResponseTo(sessionRefresh)).status).toBe(200);

    // the far end hangs up towards the remote target the refresh set: B answers and ends the session
    const bye = await exchange.sent('BYE', 10_000);
    expect(bye.startLine).toContain(bContact);
    expect((await exchange.finalResponseTo(bye)).status).toBe(200);
    const ended = await aliceSink.waitFor((e) => e.data.mediaSessionId === id && e.data.status === 'Terminated', 10_000, 'Terminated');
    expect(ended.data.status).toBe('Terminated');
  });
});
