import { flush, incomingCall, principal, SDP, setup } from './__testing__/sessions-harness';
import { UNVERIFIED_CALLER } from './incoming-calls';

const BOB_SDP = SDP.replace('o=- 1 1', 'o=bob 7 7');
const CALLER_SDP = SDP.replace('o=- 1 1', 'o=carol 3 3');

async function ring(sdp: string | undefined) {
  const t = await setup();
  t.sip.emit('call.incoming', incomingCall(t.reg.registrationId, { sdp: sdp }));
  await flush();
  await flush();
  const invitation = t.events.published.find((p) => p.type.endsWith('session-invitation'));
  return { ...t, invitation, id: String(invitation?.data.mediaSessionId) };
}

const answered = (t: Awaited<ReturnType<typeof ring>>) => t.sip.calls.flatMap((c) => (c.op === 'answer' ? [c.sdp] : []));

describe('PUT Connected on an incoming call (RFC 3261 §13.3.1.4)', () => {
  afterEach(() => jest.useRealTimers());

  it('returns only once the ACK arrived, however long it takes', async () => {
    const t = await ring(CALLER_SDP);
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    let settled = false;
    const put = t.sessions.updateStatus(principal(), t.id, { status: 'Connected', answer: { sdp: BOB_SDP } }).finally(() => (settled = true));
    await jest.advanceTimersByTimeAsync(20_000); // the 200 is retransmitted meanwhile; the old code answered after 2 s
    expect(settled).toBe(false);
    t.sip.emit('call.confirmed', { callId: 'in-tx1', localTag: 'ours' });
    expect((await put).status).toBe('Connected');
  });

  it('returns Failed with the reason once the SIP layer reports the ACK never came (its BYE sent)', async () => {
    const t = await ring(CALLER_SDP);
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const put = t.sessions.updateStatus(principal(), t.id, { status: 'Connected', answer: { sdp: BOB_SDP } });
    await jest.advanceTimersByTimeAsync(32_000);
    t.sip.emit('call.unconfirmed', { callId: 'in-tx1', localTag: 'ours' });
    expect((await put).status).toBe('Failed');
    expect(t.events.published.at(-1)?.data).toMatchObject({ status: 'Failed', reason: expect.stringContaining('no ACK') as unknown });
  });
});

describe('an offerless INVITE (3PCC, click-to-dial)', () => {
  it('is offered to the app with a session-invitation without offer', async () => {
    const { invitation } = await ring(undefined);
    expect(invitation?.data).toMatchObject({ status: 'Initial' });
    expect(invitation?.data).not.toHaveProperty('offer');
  });

  it("sends the app's offer in the 200 and connects with the ACK's SDP as the answer", async () => {
    const t = await ring(undefined);
    const put = t.sessions.updateStatus(principal(), t.id, { status: 'Connected', offer: { sdp: BOB_SDP } });
    await flush();
    await flush();
    expect(answered(t)).toEqual([BOB_SDP]);
    t.sip.emit('call.confirmed', { callId: 'in-tx1', localTag: 'ours', sdp: CALLER_SDP });
    const res = await put;
    expect(res).toMatchObject({ status: 'Connected', offer: { sdp: BOB_SDP }, answer: { sdp: CALLER_SDP } });
    expect(t.events.published.at(-1)?.data).toMatchObject({ status: 'Connected', offer: { sdp: BOB_SDP }, answer: { sdp: CALLER_SDP } });
  });

  it('refuses PUT Connected with an answer and no offer (400)', async () => {
    const t = await ring(undefined);
    await expect(t.sessions.updateStatus(principal(), t.id, { status: 'Connected', answer: { sdp: BOB_SDP } })).rejects.toMatchObject({ status: 400, code: 'INVALID_ARGUMENT' });
  });

  it('fails the call and hangs up when the ACK brings no answer', async () => {
    const t = await ring(undefined);
    const put = t.sessions.updateStatus(principal(), t.id, { status: 'Connected', offer: { sdp: BOB_SDP } });
    await flush();
    await flush();
    t.sip.emit('call.confirmed', { callId: 'in-tx1', localTag: 'ours' });
    expect((await put).status).toBe('Failed');
    expect(t.sip.ops()).toContain('hangUp');
  });
});

describe('a far-end re-INVITE without SDP on a connected call', () => {
  it('offers our SDP in the 200 and keeps the ACK SDP as the answer; a holding answer reports Hold', async () => {
    const t = await ring(CALLER_SDP);
    const put = t.sessions.updateStatus(principal(), t.id, { status: 'Connected', answer: { sdp: BOB_SDP } });
    await flush();
    await flush();
    t.sip.emit('call.confirmed', { callId: 'in-tx1', localTag: 'ours' });
    await put;
    const reply = await t.sip.dialogRequest({ kind: 'offer', method: 'INVITE', callId: 'in-tx1', localTag: 'ours', remoteTag: 'theirs', cseq: 2 });
    expect(reply).toMatchObject({ reply: 'accept', media: { sdp: BOB_SDP } });
    const held = CALLER_SDP.replace('o=carol 3 3', 'o=carol 3 4') + 'a=sendonly\r\n';
    t.sip.emit('dialog.answer', { callId: 'in-tx1', localTag: 'ours', sdp: held });
    await flush();
    await flush();
    expect(await t.store.get(t.id)).toMatchObject({ status: 'Hold', offer: BOB_SDP, answer: held });
    expect(t.events.statuses().at(-1)).toBe('Hold');
  });
});

describe('caller identity on a session-invitation (RFC 3325)', () => {
  it('uses P-Asserted-Identity (passed on only from trusted peers) as the verified originator', async () => {
    const t = await setup();
    t.sip.emit('call.incoming', { ...incomingCall(t.reg.registrationId, { sdp: CALLER_SDP }), assertedIdentity: { uri: 'tel:+4930123456', displayName: 'Real Bank' } });
    await flush();
    await flush();
    const data = t.events.published.find((p) => p.type.endsWith('session-invitation'))?.data;
    expect(data).toMatchObject({ originatorAddress: 'tel:+4930123456', originatorName: 'Real Bank' });
    expect(data).not.toHaveProperty('reason');
  });

  it('falls back to the From and marks the originator unverified in `reason`', async () => {
    const { invitation } = await ring(CALLER_SDP);
    expect(invitation?.data).toMatchObject({ originatorAddress: 'tel:+15550001234', reason: UNVERIFIED_CALLER });
  });
});

describe('the per-subscriber sessions quota on incoming calls', () => {
  it('answers 486 Busy Here (RFC 3261 §21.4.24) once the callee has the most sessions allowed, and offers nothing', async () => {
    const t = await setup({ QUOTA_SESSIONS_PER_NUMBER: '1' });
    // positive control: the first call fits and is offered
    t.sip.emit('call.incoming', incomingCall(t.reg.registrationId, { sdp: CALLER_SDP }));
    await flush();
    await flush();
    expect(t.events.published.filter((p) => p.type.endsWith('session-invitation'))).toHaveLength(1);
    t.sip.emit('call.incoming', incomingCall(t.reg.registrationId, { sdp: CALLER_SDP, key: 'tx2' }));
    await flush();
    await flush();
    expect(t.sip.calls.filter((c) => c.op === 'reject')).toEqual([{ op: 'reject', key: 'tx2', cause: 'busy' }]);
    expect(t.events.published.filter((p) => p.type.endsWith('session-invitation'))).toHaveLength(1);
  });
});
