/**
 * Several gateway instances on one Redis behind the lab's Kamailio (issue 15): any instance serves
 * any request (forwarded to the session's owner), a lost instance's sessions are adopted by a
 * survivor, and a drained instance hands its sessions over at once.
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Cluster } from '../../src/cluster/cluster';
import { keys } from '../../src/store/redis/redis-client';
import { createTestIdp, TestIdp } from '../support/auth';
import { freePort, Lab, runSippUac, startLab } from '../support/lab';
import { eventually, GatewayUnderTest, spawnGatewayProcess, startGateway } from '../support/gateway';
import { startSink, TestSink } from '../support/sink';
import { SipExchange, tracedMessages } from '../support/sip-trace';

const ALICE = '+17085852753';
const BOB = '+17085854000';
/** Registered only on the instance that drains (a number with bindings on several instances rings them all). */
const CAROL = '+17085850001';
const DAVE = '+17085850002';
const REG = '/webrtc-registration/v0.4/sessions';
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const TYPES = ['session-invitation', 'session-status'].map((t) => `org.camaraproject.webrtc-events.v0.${t}`);
const SCOPES = [
  'webrtc-registration:sessions:create',
  'webrtc-call-handling:sessions:create',
  'webrtc-call-handling:sessions:read',
  'webrtc-call-handling:sessions:write',
  'webrtc-call-handling:sessions:delete',
  'webrtc-events:read',
  ...TYPES.map((t) => `webrtc-events:${t}:create`),
].join(' ');
const sdp = (who: string) =>
  `v=0\r\no=${who} 100 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n`;

type Session = { mediaSessionId: string; status: string };

interface Party {
  token: string;
  registrationId: string;
  sink: TestSink;
}

describe('several gateway instances on one Redis', () => {
  let lab: Lab;
  let idp: TestIdp;
  let redis: Redis;
  const prefix = `cl${Date.now().toString(36)}:`;
  const gateways: GatewayUnderTest[] = [];
  let b: GatewayUnderTest;
  const sinks: TestSink[] = [];
  const closed = new Set<GatewayUnderTest>();

  /** A gateway instance sharing the store (same Redis, same key prefix). */
  async function instance(env: Record<string, string> = {}): Promise<GatewayUnderTest> {
    const gw = await startGateway(lab, idp, { REDIS_KEY_PREFIX: prefix, CLUSTER_LEASE_MS: '1500', SIP_RING_TIMEOUT_MS: '30000', ...env });
    gateways.push(gw);
    return gw;
  }
  const idOf = (gw: GatewayUnderTest): string => gw.app.get(Cluster).instanceId;
  const ownerOf = async (id: string): Promise<string | undefined> => {
    const owner = await redis.hget(keys(prefix).session(id), 'owner');
    return owner ? (JSON.parse(owner) as string) : undefined;
  };

  /** Registers `phone` through `gw` (its Contact is on that instance) with a subscription at a fresh sink. */
  async function party(gw: GatewayUnderTest, phone: string): Promise<Party> {
    const token = await idp.token({ phone_number: phone, scope: SCOPES });
    const deviceId = randomUUID();
    const reg = await gw.request('POST', REG, { token, body: { deviceId } });
    expect(reg.status).toBe(201);
    const sink = await startSink();
    sinks.push(sink);
    const sub = await gw.request('POST', '/webrtc-events/v0.3/subscriptions', { token, body: { protocol: 'HTTP', sink: sink.url, types: TYPES, config: { subscriptionDetail: { deviceId } } } });
    expect(sub.status).toBe(201);
    return { token, registrationId: (reg.body as { registrationId: string }).registrationId, sink };
  }

  const call = (gw: GatewayUnderTest, from: Party, to: string) =>
    gw.request('POST', CALLS, {
      token: from.token,
      headers: { registrationid: from.registrationId },
      body: { originatorAddress: `tel:${ALICE}`, receiverAddress: `tel:${to}`, offer: { sdp: sdp('alice') } },
    });
  const until = (gw: GatewayUnderTest, p: Party, id: string, status: string, ms = 10_000) =>
    eventually(async () => ((await gw.request('GET', `${CALLS}/${id}`, { token: p.token })).body as Session).status === status, ms, `${id} ${status}`);

  beforeAll(async () => {
    lab = await startLab();
    idp = await createTestIdp();
    redis = new Redis(lab.redis?.url ?? '');
    b = await instance();
  });
  afterAll(async () => {
    redis?.disconnect();
    for (const gw of gateways.filter((g) => !closed.has(g))) await gw.close().catch(() => undefined);
    await Promise.all(sinks.map((s) => s.close()));
    await lab?.stop();
  });

  describe('an incoming call received by instance A, answered through instance B', () => {
    let a: GatewayUnderTest;
    let bob: Party;
    beforeAll(async () => {
      a = await instance();
      bob = await party(a, BOB);
    });

    it('connects: the answer SDP given to B reaches the caller in the 200 that A sends', async () => {
      const uac = runSippUac({ scenario: 'uac-call-answered', proxyPort: lab.kamailio.port, callee: BOB, caller: '+15550001111', holdMs: 1000, timeoutS: 20 });
      const invitation = await bob.sink.waitFor((e) => e.body.type.endsWith('session-invitation') && e.body.data.originatorAddress === 'tel:+15550001111', 10_000, 'invitation');
      const id = String(invitation.body.data.mediaSessionId);
      expect(await ownerOf(id)).toBe(idOf(a));
      const ringing = await b.request('PUT', `${CALLS}/${id}/status`, { token: bob.token, body: { status: 'Ringing' } });
      expect(ringing.status).toBe(200);
      expect(ringing.body).toMatchObject({ status: 'Ringing' });
      const answered = await b.request('PUT', `${CALLS}/${id}/status`, { token: bob.token, body: { status: 'Connected', answer: { sdp: sdp('bob') } } });
      expect(answered.status).toBe(200);
      expect(answered.body).toMatchObject({ mediaSessionId: id, status: 'Connected' });
      const result = await uac;
      expect(result.exitCode).toBe(0);
      const messages = tracedMessages(result.messages);
      const invite = messages.find((m) => m.direction === 'sent' && m.method === 'INVITE' && m.status === undefined);
      const ok = messages.find((m) => m.direction === 'received' && m.status === 200 && m.method === 'INVITE' && m.callId === invite?.callId);
      expect(ok?.body).toContain('o=bob');
      expect(messages.some((m) => m.direction === 'received' && m.status === 180 && m.callId === invite?.callId)).toBe(true);
      await bob.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Terminated', 10_000, 'Terminated');
    });

    it('declines through B: the caller gets 603 and the session is Declined', async () => {
      const uac = runSippUac({ scenario: 'uac-call-answered', proxyPort: lab.kamailio.port, callee: BOB, caller: '+15550002222', timeoutS: 15 });
      const invitation = await bob.sink.waitFor((e) => e.body.type.endsWith('session-invitation') && e.body.data.originatorAddress === 'tel:+15550002222', 10_000, 'invitation');
      const id = String(invitation.body.data.mediaSessionId);
      const res = await b.request('PUT', `${CALLS}/${id}/status`, { token: bob.token, body: { status: 'Declined' } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'Declined' });
      const result = await uac;
      const messages = tracedMessages(result.messages);
      const invite = messages.find((m) => m.direction === 'sent' && m.method === 'INVITE' && m.status === undefined);
      expect(messages.find((m) => m.direction === 'received' && m.method === 'INVITE' && m.callId === invite?.callId && (m.status ?? 0) >= 200)?.status).toBe(603);
    });

    it("keeps the owner's CAMARA error as is: Connected without an answer is 400 from A, through B", async () => {
      const uac = runSippUac({ scenario: 'uac-call-answered', proxyPort: lab.kamailio.port, callee: BOB, caller: '+15550003333', timeoutS: 15 });
      const invitation = await bob.sink.waitFor((e) => e.body.type.endsWith('session-invitation') && e.body.data.originatorAddress === 'tel:+15550003333', 10_000, 'invitation');
      const id = String(invitation.body.data.mediaSessionId);
      const res = await b.request('PUT', `${CALLS}/${id}/status`, { token: bob.token, body: { status: 'Connected' } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ status: 400, code: 'INVALID_ARGUMENT', message: 'answer.sdp is required to accept a call (status Connected).' });
      expect((await b.request('DELETE', `${CALLS}/${id}`, { token: bob.token })).status).toBe(204);
      await uac;
    });
  });

  it('instance A dies: B fails its call in setup (CANCEL, event) within seconds and hangs up its established call', async () => {
    const a = await instance();
    const alice = await party(a, ALICE);
    const established = (await call(a, alice, lab.numbers.answer)).body as Session;
    await until(a, alice, established.mediaSessionId, 'Connected');
    const exchange = await SipExchange.start(lab.uas.noAnswer);
    const setup = (await call(a, alice, lab.numbers.noAnswer)).body as Session;
    await until(a, alice, setup.mediaSessionId, 'Ringing');
    const invite = await exchange.received('INVITE');

    // death: A stops without a drain (its lease lapses, nothing is released)
    const lost = idOf(a);
    await a.close();
    closed.add(a);
    const lostAt = Date.now();
    await until(b, alice, setup.mediaSessionId, 'Failed', 8000);
    expect(Date.now() - lostAt).toBeLessThan(8000);
    // the event is queued at once, and a delivery lease the dead instance held is released by the
    // survivor (cluster-adoption.e2e-spec.ts proves it with a lease held at a SIGKILL)
    const failed = await alice.sink.waitFor((e) => e.body.data.mediaSessionId === setup.mediaSessionId && e.body.data.status === 'Failed', 10_000, 'Failed event for the call in setup');
    expect(failed.body.data.reason).toEqual(expect.stringContaining('lost during call setup'));
    const cancel = await exchange.received('CANCEL');
    expect([cancel.callId, cancel.cseq]).toEqual([invite.callId, invite.cseq]);

    // one survivor adopts it (B, or the other live instance): either serves B's requests
    const survivors = gateways.filter((g) => g !== a && !closed.has(g)).map(idOf);
    await eventually(async () => survivors.includes((await ownerOf(established.mediaSessionId)) ?? lost), 5000, 'established call adopted by a survivor');
    expect(((await b.request('GET', `${CALLS}/${established.mediaSessionId}`, { token: alice.token })).body as Session).status).toBe('Connected');
    const hangUp = await SipExchange.start(lab.uas.answer);
    expect((await b.request('DELETE', `${CALLS}/${established.mediaSessionId}`, { token: alice.token })).status).toBe(204);
    const bye = await hangUp.received('BYE');
    expect((await hangUp.finalResponseTo(bye)).status).toBe(200);
  });

  it('drain: not ready, new calls 503 with Retry-After, exit within 10 s, B adopts at once', async () => {
    // a lease that would take a minute to lapse: adoption within seconds comes from the release
    const a = await instance({ CLUSTER_LEASE_MS: '60000' });
    const alice = await party(a, ALICE);
    const carol = await party(a, CAROL);
    const established = (await call(a, alice, lab.numbers.answer)).body as Session;
    await until(a, alice, established.mediaSessionId, 'Connected');
    const exchange = await SipExchange.start(lab.uas.noAnswer);
    const setup = (await call(a, alice, lab.numbers.noAnswer)).body as Session;
    await until(a, alice, setup.mediaSessionId, 'Ringing');
    const invite = await exchange.received('INVITE');
    // and an incoming call A holds, not answered yet
    const uac = runSippUac({ scenario: 'uac-call-answered', proxyPort: lab.kamailio.port, callee: CAROL, caller: '+15550004444', timeoutS: 15 });
    const invitation = await carol.sink.waitFor((e) => e.body.type.endsWith('session-invitation') && e.body.data.originatorAddress === 'tel:+15550004444', 10_000, 'invitation');
    const incoming = String(invitation.body.data.mediaSessionId);

    a.app.get(Cluster).drain();
    const ready = await a.request('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(ready.body)).toContain('draining');
    const refused = await call(a, alice, lab.numbers.answer);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    expect(refused.headers['retry-after']).toBe('5');

    const drained = idOf(a);
    const started = Date.now();
    await a.close();
    closed.add(a);
    expect(Date.now() - started).toBeLessThan(10_000);
    // the call in setup was ended by A itself (it still held the INVITE): CANCEL, Failed
    const cancel = await exchange.received('CANCEL');
    expect(cancel.callId).toBe(invite.callId);
    await alice.sink.waitFor((e) => e.body.data.mediaSessionId === setup.mediaSessionId && e.body.data.status === 'Failed', 5000, 'Failed event at drain');
    // RFC 3261 §21.4.18: the incoming INVITE A still held got 480 from A before it left
    const messages = tracedMessages((await uac).messages);
    const offered = messages.find((m) => m.direction === 'sent' && m.method === 'INVITE' && m.status === undefined);
    expect(messages.find((m) => m.direction === 'received' && m.method === 'INVITE' && m.callId === offered?.callId && (m.status ?? 0) >= 200)?.status).toBe(480);
    await carol.sink.waitFor((e) => e.body.data.mediaSessionId === incoming && e.body.data.status === 'Failed', 5000, 'Failed event of the incoming call at drain');
    const survivors = gateways.filter((g) => g !== a && !closed.has(g)).map(idOf);
    await eventually(async () => survivors.includes((await ownerOf(established.mediaSessionId)) ?? drained), 3000, 'established call adopted by a survivor at once');
    const hangUp = await SipExchange.start(lab.uas.answer);
    expect((await b.request('DELETE', `${CALLS}/${established.mediaSessionId}`, { token: alice.token })).status).toBe(204);
    expect((await hangUp.finalResponseTo(await hangUp.received('BYE'))).status).toBe(200);
  });

  it('SIGTERM to a gateway process: it drains, exits within 10 s, and a survivor adopts its call at once', async () => {
    // the real main.ts; a lease that would take a minute to lapse
    const proc = await spawnGatewayProcess({ ...b.env, CLUSTER_LEASE_MS: '60000', SIP_LISTEN_PORT: String(await freePort('both')) });
    try {
      const token = await idp.token({ phone_number: ALICE, scope: SCOPES });
      const reg = await proc.request('POST', REG, { token, body: { deviceId: randomUUID() } });
      expect(reg.status).toBe(201);
      const sink = await startSink();
      sinks.push(sink);
      const alice: Party = { token, registrationId: (reg.body as { registrationId: string }).registrationId, sink };
      const created = await proc.request('POST', CALLS, {
        token,
        headers: { registrationid: alice.registrationId },
        body: { originatorAddress: `tel:${ALICE}`, receiverAddress: `tel:${lab.numbers.answer}`, offer: { sdp: sdp('alice') } },
      });
      expect(created.status).toBe(201);
      const id = (created.body as Session).mediaSessionId;
      await until(b, alice, id, 'Connected');
      const processOwner = await ownerOf(id);
      expect(gateways.map(idOf)).not.toContain(processOwner);

      const started = Date.now();
      await proc.stop(15_000);
      expect(Date.now() - started).toBeLessThan(10_000);
      const survivors = gateways.filter((g) => !closed.has(g)).map(idOf);
      await eventually(async () => survivors.includes((await ownerOf(id)) ?? ''), 3000, 'call adopted by a survivor at once');
      const hangUp = await SipExchange.start(lab.uas.answer);
      expect((await b.request('DELETE', `${CALLS}/${id}`, { token })).status).toBe(204);
      expect((await hangUp.finalResponseTo(await hangUp.received('BYE'))).status).toBe(200);
    } finally {
      await proc.stop();
    }
  });

  it("a lost instance's registration is refreshed by a survivor, which moves the Contact to itself", async () => {
    const a = await instance({ SIP_REGISTER_EXPIRES_S: '30' });
    const dave = await party(a, DAVE);
    const bound = (await lab.kamailio.locations(DAVE)).find((x) => x.contact.includes(dave.registrationId));
    expect(bound?.contact).toContain(`:${a.sipPort}`);
    await a.close();
    closed.add(a);
    // the registrar granted 30 s; the refresh is due half-way, from whichever instance claims it first
    const moved = await eventually(
      async () => {
        const now = (await lab.kamailio.locations(DAVE)).filter((x) => x.contact.includes(dave.registrationId));
        return now.length === 1 && !now[0]!.contact.includes(`:${a.sipPort}`) ? now[0] : undefined;
      },
      25_000,
      'binding refreshed by a survivor',
    );
    const survivorPorts = gateways.filter((g) => !closed.has(g)).map((g) => `:${g.sipPort}`);
    expect(survivorPorts.some((port) => moved.contact.includes(port))).toBe(true);
  });
});
