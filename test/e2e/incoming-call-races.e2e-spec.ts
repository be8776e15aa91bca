/**
 * Incoming calls whose caller behaves the way real equipment sometimes does, played by SIPp
 * through the lab Kamailio to an app registered at the gateway: a caller that never ACKs our 200
 * (RFC 3261 §13.3.1.4), and an offerless INVITE whose answer comes in the ACK (§13.2.1). SIP
 * assertions go through SipExchange (one request and its response). The gateway runs with
 * SIP_T1_MS=100, so 64·T1 is 6.4 s instead of 32 s.
 */
import { createTestIdp, TestIdp } from '../support/auth';
import { Lab, runSippUac, SippUacResult, startLab } from '../support/lab';
import { GatewayUnderTest, startGateway } from '../support/gateway';
import { API, registerApp } from '../support/camara-app';
import type { TestSink } from '../support/sink';
import { SipExchange } from '../support/sip-trace';

const BOB = '+17085854000';
/** RFC 3261 T1 of the gateway under test (SIP_T1_MS). */
const T1_MS = 100;
const CALLS = API.sessions;
const sdp = (who: string) =>
  `v=0\r\no=${who} 100 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n`;

describe('incoming calls from callers that misbehave, through Kamailio', () => {
  let lab: Lab;
  let idp: TestIdp;
  let gw: GatewayUnderTest;
  let sink: TestSink;
  let token: string;

  beforeAll(async () => {
    lab = await startLab({ redis: false });
    idp = await createTestIdp();
    gw = await startGateway(lab, idp, { SIP_RING_TIMEOUT_MS: '20000', SIP_T1_MS: String(T1_MS) });
    ({ token, sink } = await registerApp(gw, idp, BOB, ['session-invitation', 'session-status']));
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await sink?.close();
    await lab?.stop();
  });

  /** The SIP exchange of a SIPp caller, once it has finished (its whole trace). */
  async function exchangeOf(uac: Promise<SippUacResult>): Promise<SipExchange> {
    let text = '';
    const sip = await SipExchange.start({ messages: () => Promise.resolve(text) });
    const result = await uac;
    expect({ exit: result.exitCode, errors: result.errors }).toEqual({ exit: 0, errors: '' });
    text = result.messages;
    return sip;
  }

  /** The next session-invitation at the sink after `before` events. */
  async function invitation(before: number, caller: string) {
    const e = await sink.waitFor(
      (ev) => sink.events.indexOf(ev) >= before && ev.body.type.endsWith('session-invitation') && ev.body.data.originatorAddress === `tel:${caller}`,
      10_000,
      `session-invitation from ${caller}`,
    );
    return e.body.data;
  }

  it('a caller that never ACKs our 200 gets our BYE after 64·T1; PUT Connected returns Failed and the app gets Failed (RFC 3261 §13.3.1.4)', async () => {
    const caller = '+15550007001';
    const before = sink.events.length;
    const uac = runSippUac({ scenario: 'uac-call-never-acks-gets-bye', proxyPort: lab.kamailio.port, callee: BOB, caller, timeoutS: 30 });
    const id = String((await invitation(before, caller)).mediaSessionId);

    const asked = Date.now();
    const answered = await gw.request('PUT', `${CALLS}/${id}/status`, { token, body: { status: 'Connected', answer: { sdp: sdp('bob') } } });
    // 64·T1 of the configured T1 (6.4 s), not of the default one (32 s)
    const waited = Date.now() - asked;
    expect(waited).toBeGreaterThanOrEqual(64 * T1_MS - 100);
    expect(waited).toBeLessThan(64 * 500);
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ status: 'Failed' });
    const failed = await sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Failed', 10_000, 'Failed event');
    expect(failed.body.data.reason).toEqual(expect.stringContaining('no ACK'));
    expect(sink.statuses(id)).not.toContain('Connected');
    expect((await gw.request('GET', `${CALLS}/${id}`, { token })).body).toMatchObject({ status: 'Failed' });

    const sip = await exchangeOf(uac);
    const invite = await sip.sent('INVITE');
    const ok = await sip.finalResponseTo(invite);
    expect(ok.status).toBe(200);
    const bye = await sip.received('BYE');
    expect(bye.callId).toBe(invite.callId);
    expect((await sip.finalResponseTo(bye)).status).toBe(200);
    expect((await sip.messages()).filter((m) => m.direction === 'sent' && m.method === 'ACK')).toEqual([]);
  }, 60_000);

  it('an offerless INVITE: no offer in the invitation, the app offers in PUT Connected, the 200 carries it and the ACK answer connects (RFC 3261 §13.2.1)', async () => {
    const caller = '+15550007002';
    const before = sink.events.length;
    const uac = runSippUac({ scenario: 'uac-offerless-invite-acks-answer', proxyPort: lab.kamailio.port, callee: BOB, caller, timeoutS: 30 });
    const data = await invitation(before, caller);
    expect(data.offer).toBeUndefined();
    const id = String(data.mediaSessionId);

    const answered = await gw.request('PUT', `${CALLS}/${id}/status`, { token, body: { status: 'Connected', offer: { sdp: sdp('bob-offer') } } });
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ status: 'Connected' });
    const connected = await sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Connected', 10_000, 'Connected event');
    expect((connected.body.data.answer as { sdp: string }).sdp).toContain('o=sipp-answer');
    expect((connected.body.data.offer as { sdp: string }).sdp).toContain('o=bob-offer');
    const got = (await gw.request('GET', `${CALLS}/${id}`, { token })).body as { status: string; offer: { sdp: string }; answer: { sdp: string } };
    expect(got.status).toBe('Connected');
    expect(got.offer.sdp).toContain('o=bob-offer');
    expect(got.answer.sdp).toContain('o=sipp-answer');

    expect((await gw.request('DELETE', `${CALLS}/${id}`, { token })).status).toBe(204);
    const sip = await exchangeOf(uac);
    const invite = await sip.sent('INVITE');
    expect(invite.body).toBe('');
    const ok = await sip.finalResponseTo(invite);
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']?.[0]).toContain('application/sdp');
    expect(ok.body).toContain('o=bob-offer');
    const ack = await sip.sent('ACK');
    expect(ack.body).toContain('o=sipp-answer');
    const bye = await sip.received('BYE');
    expect((await sip.finalResponseTo(bye)).status).toBe(200);
  }, 60_000);
});
