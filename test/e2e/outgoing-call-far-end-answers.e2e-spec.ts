/**
 * The rest of the README's status mapping for outgoing calls, through the lab Kamailio to SIPp far
 * ends that answer the way real equipment does:
 *   - 404 / 410 / 484 / 604 → `NotReachable`, 408 → `NoAnswer` (test/scenarios/uas-final-answer-from-number.xml:
 *     the final code is the one the dialled number ends in);
 *   - 181 Call Is Being Forwarded / 182 Queued → `Ringing` (uas-181-or-182-then-200.xml);
 *   - a retransmitted 2xx is ACKed again, a late 180 after the 2xx changes nothing
 *     (uas-200-retransmitted-then-late-180.xml);
 *   - 422 twice: one retry with the Min-SE of the first 422 (RFC 4028 §7.4), the second 422 → `Failed` (uas-422-twice.xml).
 * Each status is asserted at the app's webhook sink, the SIP on the far end's trace of that call.
 */
import { createTestIdp } from '../support/auth';
import { API, AUDIO_OFFER, registerApp, RegisteredApp } from '../support/camara-app';
import { eventually, GatewayUnderTest, startGateway } from '../support/gateway';
import { KamailioInstance, Lab, LAB_DOMAIN, SippUas, startKamailio, startSippUas } from '../support/lab';
import { SipExchange, TracedMessage } from '../support/sip-trace';

const ALICE = '+17085852753';

describe('outgoing calls: the far end answers 181/182, 404/408/410/484/604, a retransmitted 2xx, 422 twice (Kamailio + SIPp)', () => {
  let kamailio: KamailioInstance;
  let finals: SippUas;
  let forwards: SippUas;
  let retransmits: SippUas;
  let twice422: SippUas;
  let gw: GatewayUnderTest;
  let alice: RegisteredApp;

  beforeAll(async () => {
    // one at a time: a far end that fails to start leaves no other one running (afterAll stops those)
    finals = await startSippUas('uas-final-answer-from-number', { name: 'finals' });
    forwards = await startSippUas('uas-181-or-182-then-200', { name: 'forwards', ringMs: 300 });
    // -nr: SIPp would otherwise take our second ACK (rightly the same as the first) for a retransmission
    // of the first and send the 200 once more, for ever; the scenario retransmits its 200 itself
    retransmits = await startSippUas('uas-200-retransmitted-then-late-180', { name: 'retransmits', extraArgs: ['-nr'] });
    twice422 = await startSippUas('uas-422-twice', { name: 'twice422' });
    // Kamailio's routing slots (kamailio.cfg): other numbers → uasPort, +1555486… → busyPort,
    // +1555408… → noAnswerPort, +1555700… → byePort (the names of the slots do not matter here)
    kamailio = await startKamailio({ uasPort: finals.port, busyPort: forwards.port, noAnswerPort: retransmits.port, byePort: twice422.port });
    const idp = await createTestIdp();
    gw = await startGateway({ kamailio, domain: LAB_DOMAIN, redis: null } as unknown as Lab, idp);
    alice = await registerApp(gw, idp, ALICE, ['session-status']);
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await alice?.close();
    await Promise.allSettled([finals?.stop(), forwards?.stop(), retransmits?.stop(), twice422?.stop(), kamailio?.stop()]);
  });

  async function call(to: string): Promise<string> {
    const res = await gw.request('POST', API.sessions, {
      token: alice.token,
      headers: { registrationid: alice.registrationId },
      body: { originatorAddress: `tel:${ALICE}`, receiverAddress: `tel:${to}`, offer: { sdp: AUDIO_OFFER } },
    });
    expect(res.status).toBe(201);
    return (res.body as { mediaSessionId: string }).mediaSessionId;
  }
  const statusEvent = (id: string, status: string) => alice.sink.waitFor((e) => e.body.data.mediaSessionId === id && e.body.data.status === status, 10_000, `${status} event`);
  const session = async (id: string) => (await gw.request('GET', `${API.sessions}/${id}`, { token: alice.token })).body as { status: string };
  /** gateway_sip_messages_total for INVITE responses received with `code`: every datagram that reached the stack, retransmissions included. */
  async function responsesReceived(code: number): Promise<number> {
    const text = (await gw.request('GET', '/metrics')).text;
    const line = text.split('\n').find((l) => l.startsWith('gateway_sip_messages_total{') && l.includes('direction="in"') && l.includes('method="INVITE"') && l.includes(`code="${code}"`));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  }
  const answers = (msgs: TracedMessage[], request: TracedMessage, code: number) =>
    msgs.filter((m) => m.direction === 'sent' && m.status === code && m.callId === request.callId && m.cseq === request.cseq && m.method === 'INVITE');

  it.each([
    ['404 Not Found', 'NotReachable', '+15550000404', 404],
    ['410 Gone', 'NotReachable', '+15550000410', 410],
    ['484 Address Incomplete', 'NotReachable', '+15550000484', 484],
    ['604 Does Not Exist Anywhere', 'NotReachable', '+15550000604', 604],
    ['408 Request Timeout', 'NoAnswer', '+15550000408', 408],
  ])(
    'a %s from the far end → %s',
    async (_what, status, number, code) => {
      const sip = await SipExchange.start(finals);
      const id = await call(number);
      await statusEvent(id, status);
      const invite = await sip.received('INVITE');
      expect(invite.startLine).toContain(number);
      expect((await sip.finalResponseTo(invite)).status).toBe(code);
      // the final status is the only event (100 Trying changes nothing), and GET agrees
      expect(alice.sink.statuses(id)).toEqual([status]);
      expect(await session(id)).toMatchObject({ status });
    },
    30_000,
  );

  it.each([
    ['181 Call Is Being Forwarded', '+15554860181', 181],
    ['182 Queued', '+15554860182', 182],
  ])(
    'a %s → Ringing, then the 200 → Connected',
    async (_what, number, code) => {
      const sip = await SipExchange.start(forwards);
      const id = await call(number);
      const ringing = await statusEvent(id, 'Ringing');
      await statusEvent(id, 'Connected');
      expect(alice.sink.statuses(id)).toEqual(['Ringing', 'Connected']);
      const invite = await sip.received('INVITE');
      const provisional = await sip.waitFor(`${code} sent`, (m) => m.direction === 'sent' && m.status === code && m.callId === invite.callId && m.cseq === invite.cseq);
      expect(provisional.status).toBe(code);
      // the event was the provisional's, not the 200's: it came before Connected
      expect(alice.sink.events.indexOf(ringing)).toBeLessThan(alice.sink.events.findIndex((e) => e.body.data.mediaSessionId === id && e.body.data.status === 'Connected'));
      expect((await gw.request('DELETE', `${API.sessions}/${id}`, { token: alice.token })).status).toBe(204);
      await statusEvent(id, 'Terminated');
    },
    30_000,
  );

  it('ACKs a retransmitted 2xx again (RFC 3261 §13.2.2.4), and a late 180 after it changes nothing', async () => {
    const sip = await SipExchange.start(retransmits);
    const [ringingBefore, okBefore] = [await responsesReceived(180), await responsesReceived(200)];
    const id = await call('+15554080001');
    // positive control: a 180 before the 2xx is reported, so a late one would have been seen too
    await statusEvent(id, 'Ringing');
    await statusEvent(id, 'Connected');
    const invite = await sip.received('INVITE');
    // the far end sent its 200 twice, and received an ACK for each (same dialog, CSeq of the INVITE)
    const acks = await eventually(
      async () => {
        const msgs = await sip.messages();
        const acked = msgs.filter((m) => m.direction === 'received' && m.method === 'ACK' && m.callId === invite.callId && m.cseq === invite.cseq);
        return answers(msgs, invite, 200).length === 2 && acked.length === 2 && acked;
      },
      10_000,
      'two 200s sent and two ACKs received',
    );
    // the ACK to a retransmission is the same ACK (RFC 3261 §13.2.2.4): same branch, same CSeq
    expect(acks[1]?.headers.via?.[0]).toBe(acks[0]?.headers.via?.[0]);
    expect(await responsesReceived(200)).toBe(okBefore + 2);
    // the late 180 reached the gateway (Kamailio forwards it once its transaction is gone) …
    await eventually(async () => answers(await sip.messages(), invite, 180).length === 2, 12_000, 'the late 180 sent by the far end');
    await eventually(async () => (await responsesReceived(180)) === ringingBefore + 2, 10_000, 'the late 180 received by the gateway');
    // … and changed nothing: still Connected, no event after Connected
    expect(await session(id)).toMatchObject({ status: 'Connected' });
    expect(alice.sink.statuses(id)).toEqual(['Ringing', 'Connected']);
    expect((await gw.request('DELETE', `${API.sessions}/${id}`, { token: alice.token })).status).toBe(204);
    await statusEvent(id, 'Terminated');
    expect(alice.sink.statuses(id)).toEqual(['Ringing', 'Connected', 'Terminated']);
  }, 40_000);

  it('retries once after 422 with its Min-SE (RFC 4028 §7.4); a second 422 → Failed', async () => {
    const sip = await SipExchange.start(twice422);
    const id = await call('+15557000422');
    const failed = await statusEvent(id, 'Failed');
    expect(failed.body.data.status).toBe('Failed');
    const invitesReceived = async () => (await sip.messages()).filter((m) => m.direction === 'received' && m.status === undefined && m.method === 'INVITE');
    const invites = await eventually(async () => ((await invitesReceived()).length >= 2 ? invitesReceived() : undefined), 5000, 'two INVITEs in the trace');
    // positive control for "no third INVITE": the retry itself was sent, carrying the Min-SE the first 422 named
    expect(invites).toHaveLength(2);
    const [first, second] = invites as [TracedMessage, TracedMessage];
    expect(second.callId).toBe(first.callId);
    expect(second.cseq).toBeGreaterThan(first.cseq);
    expect(second.headers['min-se']?.[0]).toMatch(/^1800\b/);
    expect((await sip.finalResponseTo(first)).status).toBe(422);
    expect((await sip.finalResponseTo(second)).status).toBe(422);
    expect(alice.sink.statuses(id)).toEqual(['Failed']);
    expect(await session(id)).toMatchObject({ status: 'Failed' });
  }, 30_000);
});
