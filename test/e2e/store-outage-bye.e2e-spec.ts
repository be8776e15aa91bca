/**
 * A far end's BYE during a session-store outage, with a real Redis stopped and started again on
 * the same port (its data kept, as after a crash with a snapshot): the BYE gets 500 with
 * Retry-After (RFC 3261 §21.5.1, never 481), and once Redis answers again the session ends
 * Terminated, event sent. The caller is SIPp through the lab Kamailio
 * (test/scenarios/uac-call-bye-gets-500-retry-after.xml).
 */
import { createTestIdp, TestIdp } from '../support/auth';
import { Lab, runSippUac, SippUacResult, startLab } from '../support/lab';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';
import { API, registerApp } from '../support/camara-app';
import type { TestSink } from '../support/sink';
import { SipExchange } from '../support/sip-trace';

const BOB = '+17085854000';
const CALLS = API.sessions;
const ANSWER =
  'v=0\r\no=bob 100 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n';

describe('BYE from the far end while Redis is down', () => {
  let lab: Lab;
  let idp: TestIdp;
  let gw: GatewayUnderTest;
  let sink: TestSink;
  let token: string;

  beforeAll(async () => {
    lab = await startLab();
    idp = await createTestIdp();
    gw = await startGateway(lab, idp);
    ({ token, sink } = await registerApp(gw, idp, BOB, ['session-invitation', 'session-status']));
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await sink?.close();
    await lab?.stop();
  });

  it('answers the BYE 500 with Retry-After during the outage, and ends the session Terminated once Redis is back', async () => {
    const caller = '+15550007003';
    let trace = '';
    const sip = await SipExchange.start({ messages: () => Promise.resolve(trace) });
    const uac: Promise<SippUacResult> = runSippUac({ scenario: 'uac-call-bye-gets-500-retry-after', proxyPort: lab.kamailio.port, callee: BOB, caller, timeoutS: 20 });
    const invitation = await sink.waitFor((e) => e.body.type.endsWith('session-invitation') && e.body.data.originatorAddress === `tel:${caller}`, 10_000, 'invitation');
    const id = String(invitation.body.data.mediaSessionId);
    const answered = await gw.request('PUT', `${CALLS}/${id}/status`, { token, body: { status: 'Connected', answer: { sdp: ANSWER } } });
    expect(answered.body).toMatchObject({ status: 'Connected' });
    await sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Connected', 10_000, 'Connected');

    // the caller hangs up 3 s after its ACK: the store is down by then
    const outage = await lab.redis!.interrupt();
    const result = await uac;
    expect({ exit: result.exitCode, errors: result.errors }).toEqual({ exit: 0, errors: '' });
    trace = result.messages;
    const bye = await sip.sent('BYE');
    const refused = await sip.finalResponseTo(bye);
    expect(refused.status).toBe(500);
    expect(refused.headers['retry-after']?.[0]).toMatch(/^\d+/);
    expect(sink.statuses(id)).not.toContain('Terminated');

    await outage.end();
    const ended = await sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Terminated', 20_000, 'Terminated event');
    expect(String(ended.body.data.reason)).toMatch(/BYE/);
    await eventually(async () => ((await gw.request('GET', `${CALLS}/${id}`, { token })).body as { status?: string }).status === 'Terminated', 10_000, 'GET Terminated');
  }, 60_000);
});
