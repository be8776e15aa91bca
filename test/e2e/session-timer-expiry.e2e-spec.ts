/**
 * RFC 4028 session-timer expiry end to end, through the state machine: the far end (SIPp behind
 * the lab Kamailio, test/scenarios/uas-200-refresher-uas-then-silent.xml) answers with
 * `Session-Expires: <our interval>;refresher=uas` and never refreshes. The gateway runs with a
 * lab floor for Min-SE (SIP_MIN_SE_FLOOR_S) and asks for a 9 s interval, so at
 * 9 − min(32, 9/3) = 6 s (§10) it sends BYE and the session ends Terminated with the reason,
 * event sent.
 */
import type { SippUas } from '../support/lab';
import { FarEndRig, startFarEndRig } from '../support/far-end-rig';
import type { GatewayUnderTest } from '../support/gateway';
import { API, AUDIO_OFFER } from '../support/camara-app';
import type { TestSink } from '../support/sink';
import { SipExchange } from '../support/sip-trace';

const ALICE = '+17085852753';
const FAR = '+15550009999';
/** The session interval asked for (SIP_SESSION_EXPIRES_S), also the Min-SE (its floor lowered for the lab). */
const INTERVAL_S = 9;
const CALLS = API.sessions;
const OFFER = AUDIO_OFFER;

describe('a session whose far-end refresher goes silent (RFC 4028 §10)', () => {
  let rig: FarEndRig;
  let uas: SippUas;
  let gw: GatewayUnderTest;
  let sink: TestSink;
  let token: string;
  let registrationId: string;

  beforeAll(async () => {
    rig = await startFarEndRig('uas-200-refresher-uas-then-silent', {
      name: 'silent',
      phoneNumber: ALICE,
      events: ['session-status'],
      env: {
        SIP_SESSION_EXPIRES_S: String(INTERVAL_S),
        SIP_MIN_SE_FLOOR_S: String(INTERVAL_S),
      },
    });
    ({ uas, gw } = rig);
    ({ token, registrationId, sink } = rig.app);
  }, 60_000);
  afterAll(() => rig?.stop());

  it('sends BYE when the session expires and ends Terminated with the reason, event sent', async () => {
    const sip = await SipExchange.start(uas);
    const created = await gw.request('POST', CALLS, {
      token,
      headers: { registrationid: registrationId },
      body: { originatorAddress: `tel:${ALICE}`, originatorName: 'Alice', receiverAddress: `tel:${FAR}`, receiverName: 'Far', offer: { sdp: OFFER } },
    });
    expect(created.status).toBe(201);
    const id = (created.body as { mediaSessionId: string }).mediaSessionId;
    await sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Connected', 10_000, 'Connected');
    const connectedAt = Date.now();
    const invite = await sip.received('INVITE');
    expect(invite.headers['session-expires']?.[0]).toBe(String(INTERVAL_S));
    expect(invite.headers['min-se']?.[0]).toBe(String(INTERVAL_S));
    expect((await sip.finalResponseTo(invite)).headers['session-expires']?.[0]).toMatch(new RegExp(`^${INTERVAL_S};\\s*refresher=uas`));

    const ended = await sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Terminated', 20_000, 'Terminated event');
    // §10: the BYE goes min(32, interval/3) before the end of the interval, not earlier
    const expiresAfterMs = (INTERVAL_S - Math.min(32, INTERVAL_S / 3)) * 1000;
    expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(expiresAfterMs - 500);
    expect(Date.now() - connectedAt).toBeLessThan(INTERVAL_S * 1000 + 2000);
    expect(String(ended.body.data.reason)).toContain('session timer expired');
    const bye = await sip.received('BYE');
    expect(bye.callId).toBe(invite.callId);
    expect((await sip.finalResponseTo(bye)).status).toBe(200);
    expect((await gw.request('GET', `${CALLS}/${id}`, { token })).body).toMatchObject({ status: 'Terminated' });
    expect(sink.statuses(id)).toEqual(['Connected', 'Terminated']);
  }, 40_000);
});
