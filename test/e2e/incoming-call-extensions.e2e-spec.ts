/**
 * The gateway as UAS of the extensions IMS callers use, played by SIPp callers through the lab
 * Kamailio to an app registered at the gateway, over IPv4 and IPv6 ([::1]):
 * - RFC 3262: a caller that requires 100rel gets a reliable 180 (RSeq), retransmitted until its
 *   late PRACK, which is answered 200 (uac-invite-100rel-prack-late.xml);
 * - RFC 4028 as UAS: the caller refreshes (refresher=uac) once and then goes silent, so the gateway
 *   ends the call with BYE at its expiry (uac-session-timer-refresher-uac-stops.xml); the caller
 *   leaves the refreshes to us (refresher=uas) and gets them, in UPDATE (uac-session-timer-refresher-uas.xml);
 * - RFC 3261 §14.2 / RFC 6337: a re-INVITE without SDP is answered with our offer in the 200 and the
 *   ACK's answer becomes the session's answer (uac-reinvite-without-sdp.xml).
 * And with SIP_100REL=required, a caller that only supports 100rel gets a reliable 183 with early
 * media (uac-invite-supports-100rel-183.xml). The gateway runs with SIP_T1_MS=100 and a lab Min-SE
 * floor of 4 s, so that retransmissions and 6 s session intervals fit in seconds. SIP assertions go
 * through SipExchange on the caller's live trace.
 */
import { randomUUID } from 'node:crypto';
import { createTestIdp, TestIdp } from '../support/auth';
import { KamailioInstance, Lab, LAB_DOMAIN, runSippUac, SippUacOptions, SippUacResult, startKamailio } from '../support/lab';
import { GatewayUnderTest, startGateway } from '../support/gateway';
import { startSink, TestSink } from '../support/sink';
import { SipExchange, TracedMessage } from '../support/sip-trace';

const BOB = '+17085854000';
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const T1_MS = 100;
/** The session interval the callers ask for (their scenarios say 6). */
const INTERVAL_MS = 6000;
const TYPES = ['session-invitation', 'session-status'].map((t) => `org.camaraproject.webrtc-events.v0.${t}`);
const SCOPES = [
  'webrtc-registration:sessions:create',
  'webrtc-call-handling:sessions:read',
  'webrtc-call-handling:sessions:write',
  'webrtc-call-handling:sessions:delete',
  'webrtc-events:read',
  ...TYPES.map((t) => `webrtc-events:${t}:create`),
].join(' ');
const sdp = (who: string, ip: string) =>
  `v=0\r\no=${who} 100 1 IN ${ip.includes(':') ? 'IP6' : 'IP4'} ${ip}\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n`;
const header = (m: TracedMessage, name: string): string => m.headers[name]?.join(', ') ?? '';

/** Kamailio, the gateway (BOB registered, a webhook sink subscribed) and SIPp callers, on one address family. */
interface Bench {
  gw: GatewayUnderTest;
  sink: TestSink;
  token: string;
  /** A SIPp caller through Kamailio, and the exchange of its live trace. */
  call(scenario: string, caller: string): Promise<{ uac: Promise<SippUacResult>; sip: SipExchange }>;
  /** The session-invitation from `caller` that arrived after `before` events: its mediaSessionId. */
  invitation(before: number, caller: string): Promise<string>;
  /** The app answers: PUT Connected with its SDP. */
  connect(id: string): Promise<void>;
  close(): Promise<void>;
}

async function startBench(host: string, env: Record<string, string> = {}): Promise<Bench> {
  const ip6 = host.includes(':');
  const kamailio: KamailioInstance = await startKamailio(ip6 ? { defines: { LAB_LISTEN_IP6: '[::1]' } } : {});
  const idp: TestIdp = await createTestIdp();
  const gw = await startGateway({ kamailio, domain: LAB_DOMAIN, redis: null } as unknown as Lab, idp, {
    SIP_LISTEN_ADDRESS: host,
    SIP_OUTBOUND_PROXY: ip6 ? `sip:[::1]:${kamailio.port};transport=udp` : kamailio.outboundProxy,
    SIP_RING_TIMEOUT_MS: '20000',
    SIP_T1_MS: String(T1_MS),
    SIP_MIN_SE_FLOOR_S: '4',
    ...env,
  });
  const token = await idp.token({ phone_number: BOB, scope: SCOPES });
  const deviceId = randomUUID();
  expect((await gw.request('POST', '/webrtc-registration/v0.4/sessions', { token, body: { deviceId } })).status).toBe(201);
  const sink = await startSink();
  const sub = await gw.request('POST', '/webrtc-events/v0.3/subscriptions', {
    token,
    body: { protocol: 'HTTP', sink: sink.url, types: TYPES, config: { subscriptionDetail: { deviceId } } },
  });
  expect(sub.status).toBe(201);
  return {
    gw,
    sink,
    token,
    async call(scenario, caller) {
      let trace: () => Promise<string> = () => Promise.resolve('');
      const opts: SippUacOptions = { scenario, proxyPort: kamailio.port, callee: BOB, caller, timeoutS: 40, onTrace: (read) => (trace = read) };
      const uac = runSippUac(ip6 ? { ...opts, proxyHost: '::1', localHost: '::1' } : opts);
      return { uac, sip: await SipExchange.start({ messages: () => trace() }) };
    },
    async invitation(before, caller) {
      const e = await sink.waitFor(
        (ev) => sink.events.indexOf(ev) >= before && ev.body.type.endsWith('session-invitation') && ev.body.data.originatorAddress === `tel:${caller}`,
        10_000,
        `session-invitation from ${caller}`,
      );
      return String(e.body.data.mediaSessionId);
    },
    async connect(id) {
      const answered = await gw.request('PUT', `${CALLS}/${id}/status`, { token, body: { status: 'Connected', answer: { sdp: sdp('bob', host) } } });
      expect(answered.status).toBe(200);
      expect(answered.body).toMatchObject({ status: 'Connected' });
    },
    async close() {
      await gw.close();
      await sink.close();
      await kamailio.stop();
    },
  };
}

async function finished(uac: Promise<SippUacResult>): Promise<void> {
  const result = await uac;
  expect({ exit: result.exitCode, errors: result.errors }).toEqual({ exit: 0, errors: '' });
}

describe.each([
  ['IPv4', '127.0.0.1'],
  ['IPv6', '::1'],
])('incoming calls with 100rel, session timers and an offerless re-INVITE, through Kamailio (%s)', (_family, host) => {
  let b: Bench;
  beforeAll(async () => {
    b = await startBench(host);
  }, 60_000);
  afterAll(async () => {
    await b?.close();
  });

  it('RFC 3262 as UAS: a required 100rel gets a reliable 180, retransmitted until the late PRACK, which gets 200; then the call connects', async () => {
    const caller = '+15550007101';
    const before = b.sink.events.length;
    const { uac, sip } = await b.call('uac-invite-100rel-prack-late', caller);
    const id = await b.invitation(before, caller);
    const ringing = await b.gw.request('PUT', `${CALLS}/${id}/status`, { token: b.token, body: { status: 'Ringing' } });
    expect(ringing.status).toBe(200);

    const prack = await sip.waitFor('PRACK', (m) => m.direction === 'sent' && m.status === undefined && m.method === 'PRACK', 10_000);
    expect((await sip.finalResponseTo(prack)).status).toBe(200);
    const invite = await sip.sent('INVITE');
    const all = await sip.messages();
    const reliable = all.filter((m) => m.direction === 'received' && m.status === 180);
    // §3: sent with Require: 100rel and an RSeq, and again at T1, 2·T1, 4·T1 … during the caller's 1.5 s pause
    expect(reliable.length).toBeGreaterThanOrEqual(3);
    const rseq = header(reliable[0] as TracedMessage, 'rseq');
    expect(rseq).toMatch(/^\d+$/);
    for (const r of reliable) {
      expect(header(r, 'require')).toContain('100rel');
      expect(header(r, 'rseq')).toBe(rseq);
      expect(r.cseq).toBe(invite.cseq);
    }
    expect(all.indexOf(reliable[2] as TracedMessage)).toBeLessThan(all.findIndex((m) => m.direction === 'sent' && m.method === 'PRACK'));
    expect(header(prack, 'rack')).toBe(`${rseq} ${invite.cseq} INVITE`);
    // one Ringing for the session, however many copies of the 180
    await b.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Ringing', 10_000, 'Ringing');
    expect(b.sink.statuses(id).filter((s) => s === 'Ringing')).toHaveLength(1);

    await b.connect(id);
    const ok = await sip.finalResponseTo(invite);
    expect(ok.status).toBe(200);
    await sip.waitFor('ACK', (m) => m.direction === 'sent' && m.method === 'ACK' && m.cseq === invite.cseq);
    await b.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Connected', 10_000, 'Connected');

    expect((await b.gw.request('DELETE', `${CALLS}/${id}`, { token: b.token })).status).toBe(204);
    const bye = await sip.received('BYE');
    expect((await sip.finalResponseTo(bye)).status).toBe(200);
    await finished(uac);
  }, 60_000);

  it('RFC 4028 as UAS, refresher=uac: Require: timer in our 200, the refresh answered and honoured, then BYE at expiry when the refreshes stop', async () => {
    const caller = '+15550007102';
    const before = b.sink.events.length;
    const { uac, sip } = await b.call('uac-session-timer-refresher-uac-stops', caller);
    const id = await b.invitation(before, caller);
    await b.connect(id);
    const connectedAt = Date.now();
    const invite = await sip.sent('INVITE');
    const ok = await sip.finalResponseTo(invite);
    expect(header(ok, 'session-expires')).toMatch(/^6;\s*refresher=uac$/);
    expect(header(ok, 'require')).toContain('timer');

    const update = await sip.waitFor('the caller refresh', (m) => m.direction === 'sent' && m.status === undefined && m.method === 'UPDATE', 10_000);
    const refreshed = await sip.finalResponseTo(update);
    const refreshedAt = Date.now();
    expect(refreshed.status).toBe(200);
    expect(header(refreshed, 'session-expires')).toMatch(/^6;\s*refresher=uac$/);
    expect((await b.gw.request('GET', `${CALLS}/${id}`, { token: b.token })).body).toMatchObject({ status: 'Connected' });

    // §10: no refresh any more: BYE at 6 − min(32, 6/3) = 4 s after the last refresh, not after the 200
    const ended = await b.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Terminated', 15_000, 'Terminated');
    const expiry = INTERVAL_MS - Math.min(32_000, INTERVAL_MS / 3);
    expect(Date.now() - refreshedAt).toBeGreaterThanOrEqual(expiry - 500);
    expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(INTERVAL_MS / 2 + expiry - 500);
    expect(String(ended.body.data.reason)).toContain('session timer expired');
    const bye = await sip.received('BYE');
    expect(bye.callId).toBe(invite.callId);
    expect((await sip.finalResponseTo(bye)).status).toBe(200);
    await finished(uac);
  }, 60_000);

  it('RFC 4028 as UAS, refresher=uas: we refresh in UPDATE at half the interval, again after each refresh, and the call stays up', async () => {
    const caller = '+15550007103';
    const before = b.sink.events.length;
    const { uac, sip } = await b.call('uac-session-timer-refresher-uas', caller);
    const id = await b.invitation(before, caller);
    await b.connect(id);
    const invite = await sip.sent('INVITE');
    const ok = await sip.finalResponseTo(invite);
    expect(header(ok, 'session-expires')).toMatch(/^6;\s*refresher=uas$/);
    expect(header(ok, 'require')).not.toContain('timer');

    const isRefresh = (m: TracedMessage) => m.direction === 'received' && m.status === undefined && m.method === 'UPDATE';
    const first = await sip.waitFor('our first refresh', isRefresh, 10_000);
    expect(header(first, 'session-expires')).toMatch(/^6;\s*refresher=uac$/);
    expect(first.body).toBe('');
    expect((await sip.finalResponseTo(first)).status).toBe(200);
    const second = await sip.waitFor('our second refresh', (m) => isRefresh(m) && m.cseq > first.cseq, 10_000);
    expect((await sip.finalResponseTo(second)).status).toBe(200);

    // the caller hangs up after the second refresh: the call was up until then (no BYE of ours, no expiry)
    const bye = await sip.sent('BYE', 10_000);
    expect((await sip.finalResponseTo(bye)).status).toBe(200);
    const ended = await b.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Terminated', 10_000, 'Terminated');
    expect(ended.body.data.reason).not.toEqual(expect.stringContaining('session timer expired'));
    expect(b.sink.statuses(id)).toEqual(['Connected', 'Terminated']);
    await finished(uac);
    expect((await sip.messages()).filter((m) => m.direction === 'received' && m.status === undefined && m.method === 'BYE')).toEqual([]);
  }, 60_000);

  it('RFC 3261 §14.2: a re-INVITE without SDP gets our offer in the 200, and the ACK answer (a hold) becomes the session answer', async () => {
    const caller = '+15550007104';
    const before = b.sink.events.length;
    const { uac, sip } = await b.call('uac-reinvite-without-sdp', caller);
    const id = await b.invitation(before, caller);
    await b.connect(id);

    const held = await b.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Hold', 10_000, 'Hold');
    expect((held.body.data.answer as { sdp: string }).sdp).toContain('o=sipp-reanswer');
    const got = (await b.gw.request('GET', `${CALLS}/${id}`, { token: b.token })).body as { status: string; answer: { sdp: string } };
    expect(got.status).toBe('Hold');
    expect(got.answer.sdp).toContain('a=sendonly');

    const reinvite = await sip.waitFor('the re-INVITE', (m) => m.direction === 'sent' && m.status === undefined && m.method === 'INVITE' && m.cseq === 2);
    expect(reinvite.body).toBe('');
    const ok = await sip.finalResponseTo(reinvite);
    expect(ok.status).toBe(200);
    expect(header(ok, 'content-type')).toContain('application/sdp');
    expect(ok.body).toContain('o=bob');
    const ack = await sip.waitFor('the ACK with the answer', (m) => m.direction === 'sent' && m.method === 'ACK' && m.cseq === 2);
    expect(ack.body).toContain('a=sendonly');

    expect((await b.gw.request('DELETE', `${CALLS}/${id}`, { token: b.token })).status).toBe(204);
    const bye = await sip.received('BYE');
    expect((await sip.finalResponseTo(bye)).status).toBe(200);
    await finished(uac);
  }, 60_000);
});

describe('SIP_100REL=required: a caller that only supports 100rel (RFC 3262 §3)', () => {
  let b: Bench;
  beforeAll(async () => {
    b = await startBench('127.0.0.1', { SIP_100REL: 'required' });
  }, 60_000);
  afterAll(async () => {
    await b?.close();
  });

  it('gets our 183 with early media reliably (RSeq, Require: 100rel), its PRACK gets 200, and the call connects with the same answer', async () => {
    const caller = '+15550007105';
    const before = b.sink.events.length;
    const { uac, sip } = await b.call('uac-invite-supports-100rel-183', caller);
    const id = await b.invitation(before, caller);
    const early = sdp('bob', '127.0.0.1');
    const progress = await b.gw.request('PUT', `${CALLS}/${id}/status`, { token: b.token, body: { status: 'InProgress', answer: { sdp: early } } });
    expect(progress.status).toBe(200);

    const invite = await sip.sent('INVITE');
    expect(header(invite, 'supported')).toContain('100rel');
    expect(invite.headers['require']).toBeUndefined();
    const p183 = await sip.waitFor('our 183', (m) => m.direction === 'received' && m.status === 183, 10_000);
    expect(header(p183, 'require')).toContain('100rel');
    expect(header(p183, 'rseq')).toMatch(/^\d+$/);
    expect(p183.body).toContain('o=bob');
    const prack = await sip.waitFor('PRACK', (m) => m.direction === 'sent' && m.status === undefined && m.method === 'PRACK', 10_000);
    expect(header(prack, 'rack')).toBe(`${header(p183, 'rseq')} ${invite.cseq} INVITE`);
    expect((await sip.finalResponseTo(prack)).status).toBe(200);
    await b.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'InProgress', 10_000, 'InProgress');

    await b.connect(id);
    const ok = await sip.finalResponseTo(invite);
    expect(ok.status).toBe(200);
    expect(ok.body).toBe(p183.body);
    await b.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Connected', 10_000, 'Connected');
    expect((await b.gw.request('DELETE', `${CALLS}/${id}`, { token: b.token })).status).toBe(204);
    const bye = await sip.received('BYE');
    expect((await sip.finalResponseTo(bye)).status).toBe(200);
    await finished(uac);
  }, 60_000);
});
