/**
 * RFC 3261 §14.1 glare, the other order: the far end (SIPp behind the lab Kamailio,
 * test/scenarios/uas-glare-491-first-then-reinvite.xml) answers our hold re-INVITE 491 at once and
 * only then sends its own re-INVITE, which reaches the gateway during our back-off. It is answered
 * there (nothing of ours is pending; it does not wait behind the app's PUT in the session's queue),
 * and our retry goes out only once that transaction completed (its 200 ACKed); the hold still
 * wins: our retry is a=sendonly, built on the answer we gave, and the session ends Hold.
 */
import type { SippUas } from '../support/lab';
import { FarEndRig, startFarEndRig } from '../support/far-end-rig';
import type { GatewayUnderTest } from '../support/gateway';
import { API, AUDIO_OFFER } from '../support/camara-app';
import type { TestSink } from '../support/sink';
import { SipExchange, TracedMessage } from '../support/sip-trace';

const ALICE = '+17085852753';
const FAR = '+15550009999';
const CALLS = API.sessions;
const OFFER = AUDIO_OFFER;

describe('glare: the far end answers 491 first, then re-INVITEs during our back-off (RFC 3261 §14.1)', () => {
  let rig: FarEndRig;
  let uas: SippUas;
  let gw: GatewayUnderTest;
  let sink: TestSink;
  let token: string;
  let registrationId: string;

  beforeAll(async () => {
    rig = await startFarEndRig('uas-glare-491-first-then-reinvite', { name: 'glare-491-first', phoneNumber: ALICE, events: ['session-status'] });
    ({ uas, gw } = rig);
    ({ token, registrationId, sink } = rig.app);
  }, 60_000);
  afterAll(() => rig?.stop());

  it('answers their re-INVITE during the back-off, sends our retry only after its ACK, and ends Hold with a sendonly offer', async () => {
    const sip = await SipExchange.start(uas);
    const created = await gw.request('POST', CALLS, {
      token,
      headers: { registrationid: registrationId },
      body: { originatorAddress: `tel:${ALICE}`, originatorName: 'Alice', receiverAddress: `tel:${FAR}`, receiverName: 'Far', offer: { sdp: OFFER } },
    });
    expect(created.status).toBe(201);
    const id = (created.body as { mediaSessionId: string }).mediaSessionId;
    await sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Connected', 10_000, 'Connected');

    const hold = await gw.request('PUT', `${CALLS}/${id}/status`, { token, body: { status: 'Hold' } });
    expect(hold.status).toBe(200);
    expect(hold.body).toMatchObject({ status: 'Hold' });

    // on the wire: our first re-INVITE got 491; theirs got our 200 and was ACKed; only then our retry, answered 200
    await sip.waitFor('200 to our retry', (m) => m.direction === 'sent' && m.status === 200 && m.method === 'INVITE' && m.body.includes('a=recvonly'));
    const all = await sip.messages();
    const at = (what: string, match: (m: TracedMessage) => boolean): number => {
      const i = all.findIndex(match);
      if (i < 0) throw new Error(`no ${what} in the exchange`);
      return i;
    };
    const ours = all.filter((m) => m.direction === 'received' && m.status === undefined && m.method === 'INVITE');
    expect(ours.length).toBeGreaterThanOrEqual(3);
    const [initial, first, retry] = ours as [TracedMessage, TracedMessage, TracedMessage];
    expect(first.body).toContain('a=sendonly');
    const firstFinal = at('final response to our first re-INVITE', (m) => m.direction === 'sent' && (m.status ?? 0) >= 200 && m.method === 'INVITE' && m.cseq === first.cseq);
    expect(all[firstFinal]?.status).toBe(491);
    const theirs = at('their re-INVITE', (m) => m.direction === 'sent' && m.status === undefined && m.method === 'INVITE');
    const theirCseq = all[theirs]?.cseq;
    const theirFinal = at('our final response to their re-INVITE', (m) => m.direction === 'received' && (m.status ?? 0) >= 200 && m.method === 'INVITE' && m.cseq === theirCseq);
    expect(all[theirFinal]?.status).toBe(200);
    expect(all[theirFinal]?.body).toContain('a=sendrecv');
    const theirAck = at('their ACK', (m) => m.direction === 'sent' && m.status === undefined && m.method === 'ACK' && m.cseq === theirCseq);
    const retryAt = all.indexOf(retry);
    // §14.1: theirs came after our 491, and our retry only once theirs was answered and ACKed
    expect(theirs).toBeGreaterThan(firstFinal);
    expect(theirFinal).toBeLessThan(retryAt);
    expect(theirAck).toBeLessThan(retryAt);
    // RFC 3264 §8: the retry is a new offer after our answer to theirs (higher o= version), and holds
    expect(retry.body).toContain('a=sendonly');
    expect(retry.cseq).toBeGreaterThan(first.cseq);
    expect(originVersion(retry.body)).toBeGreaterThan(originVersion(all[theirFinal]?.body ?? ''));
    expect(initial.callId).toBe(retry.callId);
    expect((await sip.finalResponseTo(retry)).status).toBe(200);

    const held = await sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Hold', 10_000, 'Hold event');
    expect((held.body.data.answer as { sdp: string }).sdp).toContain('a=recvonly');
    const got = (await gw.request('GET', `${CALLS}/${id}`, { token })).body as { status: string; answer: { sdp: string } };
    expect(got.status).toBe('Hold');
    expect(got.answer.sdp).toContain('a=recvonly');

    expect((await gw.request('DELETE', `${CALLS}/${id}`, { token })).status).toBe(204);
    const bye = await sip.received('BYE');
    expect((await sip.finalResponseTo(bye)).status).toBe(200);
    await sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Terminated', 10_000, 'Terminated');
  }, 60_000);
});

/** The o= version of an SDP body (RFC 8866 §5.2). */
function originVersion(sdp: string): bigint {
  const v = /^o=\S+ \S+ (\d+) /m.exec(sdp)?.[1];
  if (v === undefined) throw new Error(`no o= line in:\n${sdp}`);
  return BigInt(v);
}
