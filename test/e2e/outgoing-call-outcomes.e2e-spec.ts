/**
 * The README's status-mapping rows that the other outgoing-call e2e do not reach, through the lab
 * Kamailio to SIPp far ends: a reliable 183 with SDP (RFC 3262) → `InProgress` once, then
 * `Connected`, the offer's WebRTC attributes kept by the default SDP profile; 603 → `Declined`; 600 → `Busy`; another final ≥ 300 (500) → `Failed` (test/scenarios/uas-decline-603.xml,
 * uas-busy-everywhere-600.xml, uas-server-error-500.xml). Each status
 * is asserted at the app's webhook sink and the SIP answer on the far end's trace of that call.
 */
import { randomUUID } from 'node:crypto';
import { createTestIdp, TestIdp } from '../support/auth';
import { KamailioInstance, Lab, LAB_DOMAIN, LAB_NUMBERS, SippUas, startKamailio, startSippUas } from '../support/lab';
import { GatewayUnderTest, startGateway } from '../support/gateway';
import { startSink, TestSink } from '../support/sink';
import { SipExchange } from '../support/sip-trace';

const ALICE = '+17085852753';
const REG = '/webrtc-registration/v0.4/sessions';
const CALLS = '/webrtc-call-handling/v0.4/sessions';
const STATUS = 'org.camaraproject.webrtc-events.v0.session-status';
const SCOPES = [
  'webrtc-registration:sessions:create',
  'webrtc-call-handling:sessions:create',
  'webrtc-call-handling:sessions:read',
  'webrtc-call-handling:sessions:delete',
  `webrtc-events:${STATUS}:create`,
].join(' ');
/** With WebRTC attributes SDP_PROFILE=ims would strip: the default profile (passthrough) keeps them. */
const OFFER =
  'v=0\r\no=alice 100 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS stream\r\na=ice-options:trickle\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n';

describe('outgoing call outcomes mapped to session statuses (Kamailio + SIPp far ends)', () => {
  let kamailio: KamailioInstance;
  let reliable: SippUas;
  let declines: SippUas;
  let busyEverywhere: SippUas;
  let fails: SippUas;
  let idp: TestIdp;
  let gw: GatewayUnderTest;
  let sink: TestSink;
  let token: string;
  let registrationId: string;

  beforeAll(async () => {
    // one at a time: a far end that fails to start leaves no other one running (afterAll stops those)
    reliable = await startSippUas('uas-reliable-183-then-200', { name: 'reliable183' });
    declines = await startSippUas('uas-decline-603');
    busyEverywhere = await startSippUas('uas-busy-everywhere-600');
    fails = await startSippUas('uas-server-error-500');
    // Kamailio's routing slots (kamailio.cfg): any number → uasPort, +1555486… → busyPort,
    // +1555408… → noAnswerPort, +1555700… → byePort
    kamailio = await startKamailio({ uasPort: reliable.port, busyPort: declines.port, noAnswerPort: busyEverywhere.port, byePort: fails.port });
    idp = await createTestIdp();
    gw = await startGateway({ kamailio, domain: LAB_DOMAIN, redis: null } as unknown as Lab, idp);
    token = await idp.token({ phone_number: ALICE, scope: SCOPES });
    const deviceId = randomUUID();
    const reg = await gw.request('POST', REG, { token, body: { deviceId } });
    expect(reg.status).toBe(201);
    registrationId = (reg.body as { registrationId: string }).registrationId;
    sink = await startSink();
    const sub = await gw.request('POST', '/webrtc-events/v0.3/subscriptions', {
      token,
      body: { protocol: 'HTTP', sink: sink.url, types: [STATUS], config: { subscriptionDetail: { deviceId } } },
    });
    expect(sub.status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await sink?.close();
    await Promise.allSettled([reliable?.stop(), declines?.stop(), busyEverywhere?.stop(), fails?.stop(), kamailio?.stop()]);
  });

  async function call(to: string): Promise<string> {
    const res = await gw.request('POST', CALLS, {
      token,
      headers: { registrationid: registrationId },
      body: { originatorAddress: `tel:${ALICE}`, receiverAddress: `tel:${to}`, offer: { sdp: OFFER } },
    });
    expect(res.status).toBe(201);
    return (res.body as { mediaSessionId: string }).mediaSessionId;
  }
  const statusEvent = (id: string, status: string) => sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === status, 10_000, `${status} event`);

  it('a reliable 183 with SDP (Require: 100rel) → InProgress with the early answer, once; PRACKed; then 2xx → Connected; SDP_PROFILE=passthrough keeps every attribute of the offer', async () => {
    const sip = await SipExchange.start(reliable);
    const id = await call(LAB_NUMBERS.answer);
    const early = await statusEvent(id, 'InProgress');
    expect((early.body.data.answer as { sdp: string }).sdp).toContain('m=audio');
    await statusEvent(id, 'Connected');
    // the 183 was retransmitted until our PRACK; still one InProgress event (one per RSeq)
    expect(sink.statuses(id).filter((s) => s === 'InProgress')).toEqual(['InProgress']);
    const prack = await sip.received('PRACK');
    expect(prack.headers.rack?.[0]).toMatch(/^1 \d+ INVITE$/);
    expect((await sip.finalResponseTo(prack)).status).toBe(200);
    const invite = await sip.received('INVITE');
    expect((await sip.finalResponseTo(invite)).status).toBe(200);
    // SDP_PROFILE=passthrough (the default) keeps every attribute of the app's offer
    expect(invite.body).toMatch(/^a=extmap-allow-mixed\r?$/m);
    expect(invite.body).toMatch(/^a=msid-semantic: ?WMS stream\r?$/m);
    expect(invite.body).toMatch(/^a=ice-options:trickle\r?$/m);
    expect((await gw.request('DELETE', `${CALLS}/${id}`, { token })).status).toBe(204);
    await statusEvent(id, 'Terminated');
  }, 30_000);

  it.each([
    ['603', 'Declined', '+15554860001', () => declines, 603],
    ['600', 'Busy', '+15554080001', () => busyEverywhere, 600],
    ['500 (any other ≥ 300)', 'Failed', '+15557000001', () => fails, 500],
  ])(
    'a %s from the far end → %s',
    async (_what, status, number, uas, code) => {
      const sip = await SipExchange.start(uas());
      const id = await call(number);
      const ended = await statusEvent(id, status);
      expect(ended.body.data.status).toBe(status);
      const invite = await sip.received('INVITE');
      expect((await sip.finalResponseTo(invite)).status).toBe(code);
      // the same call: the INVITE the far end answered carried this session's offer
      expect(invite.body).toContain('o=alice 100 1');
      // 100 Trying (from Kamailio and from the far end) changes nothing: the final status is the only event
      expect(sink.statuses(id)).toEqual([status]);
      expect(((await gw.request('GET', `${CALLS}/${id}`, { token })).body as { status: string }).status).toBe(status);
    },
    30_000,
  );
});
