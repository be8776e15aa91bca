/**
 * RFC 3261 §14 glare end to end: Alice's app holds a call whose far end (SIPp behind the lab
 * Kamailio, test/scenarios/uas-glare-491-then-200.xml) sends its own re-INVITE while ours is
 * pending. The gateway answers theirs 491, gets 491 for ours, retries once after the §14.1
 * back-off (2.1–4 s: we own the Call-ID) and the hold succeeds; the status tells the media state.
 * The far end answers ours 491 only after our 491 reached it, so the crossing has one order.
 */
import type { SippUas } from '../support/lab';
import { FarEndRig, startFarEndRig } from '../support/far-end-rig';
import type { GatewayUnderTest } from '../support/gateway';
import { API, AUDIO_OFFER } from '../support/camara-app';
import type { TestSink } from '../support/sink';
import { SipExchange } from '../support/sip-trace';

const ALICE = '+17085852753';
const FAR = '+15550009999';
const CALLS = API.sessions;
const OFFER = AUDIO_OFFER;

describe('glare: the far end re-INVITEs while our hold is pending (RFC 3261 §14)', () => {
  let rig: FarEndRig;
  let uas: SippUas;
  let gw: GatewayUnderTest;
  let sink: TestSink;
  let token: string;
  let registrationId: string;

  beforeAll(async () => {
    rig = await startFarEndRig('uas-glare-491-then-200', { name: 'glare', phoneNumber: ALICE, events: ['session-status'] });
    ({ uas, gw } = rig);
    ({ token, registrationId, sink } = rig.app);
  }, 60_000);
  afterAll(() => rig?.stop());

  it('answers their re-INVITE 491, retries ours once after the back-off, and ends Hold with a held answer', async () => {
    const sip = await SipExchange.start(uas);
    const created = await gw.request('POST', CALLS, {
      token,
      headers: { registrationid: registrationId },
      body: { originatorAddress: `tel:${ALICE}`, originatorName: 'Alice', receiverAddress: `tel:${FAR}`, receiverName: 'Far', offer: { sdp: OFFER } },
    });
    expect(created.status).toBe(201);
    const id = (created.body as { mediaSessionId: string }).mediaSessionId;
    await sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Connected', 10_000, 'Connected');

    const asked = Date.now();
    const hold = await gw.request('PUT', `${CALLS}/${id}/status`, { token, body: { status: 'Hold' } });
    // §14.1: the retry waits 2.1–4 s after the 491 (we chose the Call-ID), and PUT returns after it
    expect(Date.now() - asked).toBeGreaterThanOrEqual(2100);
    expect(hold.status).toBe(200);
    expect(hold.body).toMatchObject({ status: 'Hold' });
    const held = await sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Hold', 10_000, 'Hold event');
    expect((held.body.data.answer as { sdp: string }).sdp).toContain('a=recvonly');
    const got = (await gw.request('GET', `${CALLS}/${id}`, { token })).body as { status: string; answer: { sdp: string } };
    expect(got.status).toBe('Hold');
    expect(got.answer.sdp).toContain('a=recvonly');

    // on the wire: their re-INVITE got 491 from us; our first re-INVITE got 491; the retry got 200
    const invites = (await sip.messages()).filter((m) => m.direction === 'received' && m.status === undefined && m.method === 'INVITE');
    expect(invites.length).toBeGreaterThanOrEqual(3);
    const [, first, retry] = invites as [unknown, (typeof invites)[0], (typeof invites)[0]];
    expect(first.body).toContain('a=sendonly');
    expect(retry.body).toContain('a=sendonly');
    expect(retry.cseq).toBeGreaterThan(first.cseq);
    expect((await sip.finalResponseTo(first)).status).toBe(491);
    expect((await sip.finalResponseTo(retry)).status).toBe(200);
    const theirs = await sip.sent('INVITE');
    expect((await sip.finalResponseTo(theirs)).status).toBe(491);

    expect((await gw.request('DELETE', `${CALLS}/${id}`, { token })).status).toBe(204);
    const bye = await sip.received('BYE');
    expect((await sip.finalResponseTo(bye)).status).toBe(200);
    await sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Terminated', 10_000, 'Terminated');
  }, 60_000);
});
