import type { FakeSipGateway } from '../../test/support/fake-sip-gateway';
import { SessionsService } from './sessions.service';
import { ALICE, SDP, flush, incomingCall, principal, setup } from './__testing__/sessions-harness';

/** The dialog state of each hang-up: early → the port CANCELs, confirmed → it sends BYE. */
const hangUps = (sip: FakeSipGateway) => sip.calls.flatMap((c) => (c.op === 'hangUp' ? [c.dialog.state] : []));

describe(SessionsService.name, () => {
  describe('create', () => {
    it('sends an INVITE through the SIP port and answers Initial', async () => {
      const { sessions, reg, body, lastInvite } = await setup();
      const res = await sessions.create(principal(), reg.registrationId, body());
      expect(res.status).toBe('Initial');
      expect(res.mediaSessionId).toMatch(/^[0-9a-f-]{36}$/);
      const { call } = lastInvite();
      expect(call.requestUri).toBe('sip:+15550009999@ims.lab;user=phone');
      expect(call.from).toEqual({ uri: `sip:${ALICE}@ims.lab`, displayName: 'Alice' });
      expect(call.to).toEqual({ uri: 'sip:+15550009999@ims.lab;user=phone', displayName: 'Bob' });
      expect(call.contactUser).toBe(reg.registrationId);
      expect(call.body.contentType).toBe('application/sdp');
      expect(call.credentials?.username).toBe(ALICE);
    });

    it('hides an anonymous caller in From and asserts the identity with Privacy: id', async () => {
      const { sessions, reg, body, lastInvite } = await setup();
      await sessions.create(principal(), reg.registrationId, body({ originatorAddress: 'sip:anonymous@anonymous.invalid' }));
      const { call } = lastInvite();
      expect(call.from.uri).toBe('sip:anonymous@anonymous.invalid');
      expect(call.headers).toEqual({ 'P-Asserted-Identity': `<sip:${ALICE}@ims.lab>`, Privacy: 'id' });
    });

    it('refuses an originator other than the token subscriber with 403 INVALID_TOKEN_CONTEXT', async () => {
      const { sessions, reg, body, sip } = await setup();
      await expect(sessions.create(principal(), reg.registrationId, body({ originatorAddress: 'tel:+17085854000' }))).rejects.toMatchObject({
        status: 403,
        code: 'INVALID_TOKEN_CONTEXT',
      });
      expect(sip.ops()).not.toContain('invite');
    });

    it('answers 404 for a registration of someone else', async () => {
      const { sessions, reg, body } = await setup();
      await expect(sessions.create(principal('+17085854000'), reg.registrationId, body({ originatorAddress: 'tel:+17085854000' }))).rejects.toMatchObject({ status: 404 });
    });

    it.each([[{ callType: 'EMERGENCY' as const }], [{ receiverAddress: 'urn:service:sos' }], [{ receiverAddress: 'urn:service:sos.police' }], [{ receiverAddress: 'tel:911' }]])(
      'answers 501 CALLTYPE_EMERGENCY_NOT_SUPPORTED for %j while emergency calls are disabled',
      async (over) => {
        const { sessions, reg, body, sip } = await setup();
        await expect(sessions.create(principal(), reg.registrationId, body(over))).rejects.toMatchObject({ status: 501, code: 'CALLTYPE_EMERGENCY_NOT_SUPPORTED' });
        expect(sip.ops()).not.toContain('invite');
      },
    );

    it('names the first bad SDP line in a 400 INVALID_ARGUMENT', async () => {
      const { sessions, reg, body } = await setup();
      await expect(
        sessions.create(principal(), reg.registrationId, body({ offer: { sdp: 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n [...]\r\n' } })),
      ).rejects.toMatchObject({
        status: 400,
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('line 7'),
      });
    });
  });

  describe('Alice calls Bob, Bob answers', () => {
    it('follows 100, 180 and 200 to Connected with the answer, and reports each change', async () => {
      const { sessions, reg, body, sip, events, lastInvite } = await setup();
      const { mediaSessionId } = await sessions.create(principal(), reg.registrationId, body());
      const { callId } = lastInvite();
      sip.signal(callId, { kind: 'provisional', code: 100, reason: 'Trying' });
      sip.signal(callId, { kind: 'provisional', code: 180, reason: 'Ringing' });
      await flush();
      expect((await sessions.get(principal(), mediaSessionId)).status).toBe('Ringing');
      sip.signal(callId, { kind: 'answered', code: 200, reason: 'OK', sdp: 'v=0 answer', dialog: sip.answeredDialog(callId) });
      sip.signal(callId, { kind: 'provisional', code: 180, reason: 'Ringing' }); // reordered by the proxy
      await flush();
      const s = await sessions.get(principal(), mediaSessionId);
      expect(s.status).toBe('Connected');
      expect(s.answer).toEqual({ sdp: 'v=0 answer' });
      expect(events.statuses()).toEqual(['Ringing', 'Connected']);
      expect(events.published[1]?.audience).toEqual({ phoneNumber: ALICE, deviceId: '6f1c2b7e-2d7a-4c2e-9a4b-0c6d2f3e4a5b' });
    });

    it('ends with BYE on DELETE, then answers 404', async () => {
      const { sessions, reg, body, sip, events, lastInvite } = await setup();
      const { mediaSessionId } = await sessions.create(principal(), reg.registrationId, body());
      const { callId } = lastInvite();
      sip.signal(callId, { kind: 'answered', code: 200, reason: 'OK', sdp: 'v=0', dialog: sip.answeredDialog(callId) });
      await flush();
      await sessions.remove(principal(), mediaSessionId);
      expect(hangUps(sip)).toEqual(['confirmed']);
      expect(events.statuses()).toEqual(['Connected', 'Terminated']);
      await expect(sessions.get(principal(), mediaSessionId)).rejects.toMatchObject({ status: 404 });
      await expect(sessions.remove(principal(), mediaSessionId)).rejects.toMatchObject({ status: 404 });
    });

    it('answers a far-end BYE with 200 and becomes Terminated', async () => {
      const { sessions, reg, body, sip, lastInvite } = await setup();
      const { mediaSessionId } = await sessions.create(principal(), reg.registrationId, body());
      const { callId } = lastInvite();
      sip.signal(callId, { kind: 'answered', code: 200, reason: 'OK', sdp: 'v=0', dialog: sip.answeredDialog(callId) });
      await flush();
      const answered = await sip.dialogRequest({ kind: 'bye', callId, localTag: 'lt', remoteTag: 'rt', cseq: 2 });
      await flush();
      await flush();
      expect(answered.reply).toBe('accept');
      expect((await sessions.get(principal(), mediaSessionId)).status).toBe('Terminated');
    });
  });

  describe('Alice calls Bob, Bob is busy', () => {
    it('reports Busy with the SIP code kept', async () => {
      const { sessions, reg, body, sip, store, lastInvite } = await setup();
      const { mediaSessionId } = await sessions.create(principal(), reg.registrationId, body());
      sip.signal(lastInvite().callId, { kind: 'rejected', code: 486, reason: 'Busy Here' });
      await flush();
      const s = await store.get(mediaSessionId);
      expect(s).toMatchObject({ status: 'Busy', sipCode: 486, sipReason: 'Busy Here' });
    });
  });

  describe('Alice hangs up while it rings', () => {
    it('sends CANCEL, reports SessionCancelled, and ignores the 487', async () => {
      const { sessions, reg, body, sip, events, lastInvite } = await setup();
      const { mediaSessionId } = await sessions.create(principal(), reg.registrationId, body());
      const { callId } = lastInvite();
      sip.signal(callId, { kind: 'provisional', code: 180, reason: 'Ringing' });
      await flush();
      await sessions.remove(principal(), mediaSessionId);
      expect(hangUps(sip)).toEqual(['early']);
      sip.signal(callId, { kind: 'rejected', code: 487, reason: 'Request Terminated' });
      await flush();
      expect(events.statuses()).toEqual(['Ringing', 'SessionCancelled']);
    });

    it('ends a 200 that crossed the CANCEL with BYE', async () => {
      const { sessions, reg, body, sip, lastInvite } = await setup();
      const { mediaSessionId } = await sessions.create(principal(), reg.registrationId, body());
      const { callId } = lastInvite();
      await sessions.remove(principal(), mediaSessionId);
      sip.signal(callId, { kind: 'answered', code: 200, reason: 'OK', sdp: 'v=0', dialog: sip.answeredDialog(callId) });
      await flush();
      await flush();
      // CANCEL of the pending INVITE, then BYE of the dialog the 200 made (RFC 3261 §15)
      expect(hangUps(sip)).toEqual(['early', 'confirmed']);
    });
  });

  describe('nobody answers', () => {
    afterEach(() => jest.useRealTimers());
    it('CANCELs at the ring timeout, reports NoAnswer at once, and ignores the 487', async () => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
      const { sessions, reg, body, sip, store, lastInvite } = await setup();
      const { mediaSessionId } = await sessions.create(principal(), reg.registrationId, body());
      const { callId } = lastInvite();
      sip.signal(callId, { kind: 'provisional', code: 180, reason: 'Ringing' });
      await flush();
      jest.advanceTimersByTime(5000);
      await flush();
      await flush();
      expect(hangUps(sip)).toEqual(['early']);
      expect((await store.get(mediaSessionId))?.status).toBe('NoAnswer');
      sip.signal(callId, { kind: 'rejected', code: 487, reason: 'Request Terminated' });
      await flush();
      expect(await store.get(mediaSessionId)).toMatchObject({ status: 'NoAnswer', cancelledBy: 'ring-timeout' });
    });
  });
});

describe('incoming calls', () => {
  const BOB_SDP = SDP.replace('o=- 1 1', 'o=bob 7 7');
  /** What the app's answers became on the pending INVITE. */
  const responses = (sip: FakeSipGateway) => sip.calls.flatMap((c) => (c.op === 'progress' ? [c.progress.kind] : c.op === 'answer' ? ['answer'] : c.op === 'reject' ? [`reject:${c.cause}`] : []));

  async function ring() {
    const t = await setup();
    t.sip.emit('call.incoming', incomingCall(t.reg.registrationId));
    await flush();
    await flush();
    const invitation = t.events.published.find((p) => p.type.endsWith('session-invitation'));
    return { ...t, invitation, id: String(invitation?.data.mediaSessionId) };
  }

  it('offers the call to the app with a session-invitation event', async () => {
    const { invitation } = await ring();
    expect(invitation?.data).toMatchObject({ originatorAddress: 'tel:+15550001234', originatorName: 'Carol', receiverAddress: `tel:${ALICE}`, status: 'Initial', offer: { sdp: SDP } });
  });

  it('answers 480 when the device has no subscription, and stores nothing', async () => {
    const t = await setup();
    t.events.subscribed = false;
    t.sip.emit('call.incoming', incomingCall(t.reg.registrationId));
    await flush();
    expect(responses(t.sip)).toEqual(['reject:unavailable']);
    expect(t.events.published).toHaveLength(0);
  });

  it('answers 480 for an unknown registration', async () => {
    const t = await setup();
    t.sip.emit('call.incoming', incomingCall('no-such-registration'));
    await flush();
    expect(responses(t.sip)).toEqual(['reject:unavailable']);
  });

  it('rings (180), answers (200 with the app SDP) and connects on the ACK', async () => {
    const { sessions, sip, id, events } = await ring();
    expect((await sessions.updateStatus(principal(), id, { status: 'Ringing' })).status).toBe('Ringing');
    const answering = sessions.updateStatus(principal(), id, { status: 'Connected', answer: { sdp: BOB_SDP } });
    await flush();
    await flush();
    expect(responses(sip)).toEqual(['ringing', 'answer']);
    sip.emit('call.confirmed', { callId: 'in-tx1', localTag: 'ours' });
    const res = await answering;
    expect(res.status).toBe('Connected');
    expect(res.answer?.sdp).toContain('o=bob');
    expect(events.statuses()).toEqual(['Ringing', 'Connected']);
  });

  it('fails the call when our 200 is never ACKed (the SIP layer ended the dialog with BYE)', async () => {
    const { sessions, sip, id, events } = await ring();
    const answering = sessions.updateStatus(principal(), id, { status: 'Connected', answer: { sdp: BOB_SDP } });
    await flush();
    await flush();
    sip.emit('call.unconfirmed', { callId: 'in-tx1', localTag: 'ours' });
    expect((await answering).status).toBe('Failed');
    expect(events.statuses()).toEqual(['Failed']);
  });

  it('sends 183 with early media when the app rings with an SDP', async () => {
    const { sessions, sip, id } = await ring();
    await sessions.updateStatus(principal(), id, { status: 'InProgress', answer: { sdp: BOB_SDP } });
    const r = sip.calls.find((c) => c.op === 'progress');
    expect(r).toMatchObject({ progress: { kind: 'session-progress', sdp: expect.stringContaining('o=bob') } });
  });

  it('declines with 603', async () => {
    const { sessions, sip, id } = await ring();
    expect((await sessions.updateStatus(principal(), id, { status: 'Declined' })).status).toBe('Declined');
    expect(responses(sip)).toEqual(['reject:declined']);
  });

  it('declines with 603 on DELETE before answering', async () => {
    const { sessions, sip, id } = await ring();
    await sessions.remove(principal(), id);
    expect(responses(sip)).toEqual(['reject:declined']);
  });

  it('reports SessionCancelled when the caller CANCELs', async () => {
    const { sip, id, store, events } = await ring();
    sip.emit('call.cancelled', { callId: 'in-tx1', key: 'tx1' });
    await flush();
    await flush();
    expect((await store.get(id))?.status).toBe('SessionCancelled');
    expect(events.statuses()).toEqual(['SessionCancelled']);
  });

  it('refuses Connected without an answer (400) and Hold before answering (409)', async () => {
    const { sessions, id } = await ring();
    await expect(sessions.updateStatus(principal(), id, { status: 'Connected' })).rejects.toMatchObject({ status: 400 });
    await expect(sessions.updateStatus(principal(), id, { status: 'Hold' })).rejects.toMatchObject({ status: 409, code: 'INCOMPATIBLE_STATE' });
  });
});

describe('session updates', () => {
  async function connected() {
    const t = await setup();
    const { mediaSessionId } = await t.sessions.create(principal(), t.reg.registrationId, t.body());
    const { callId } = t.lastInvite();
    t.sip.signal(callId, { kind: 'answered', code: 200, reason: 'OK', sdp: SDP.replace('o=- 1 1', 'o=far 1 1'), dialog: t.sip.answeredDialog(callId) });
    await flush();
    return { ...t, id: mediaSessionId, callId };
  }
  const lastModify = (sip: FakeSipGateway) => [...sip.calls].reverse().find((c) => c.op === 'modify');

  it('holds with our SDP put on hold, then resumes it, and reports both', async () => {
    const { sessions, sip, id, events } = await connected();
    sip.requestAnswer = SDP.replace('o=- 1 1', 'o=far 1 2') + 'a=recvonly\r\n';
    expect((await sessions.updateStatus(principal(), id, { status: 'Hold' })).status).toBe('Hold');
    expect(lastModify(sip)).toMatchObject({ change: { kind: 'hold', localSdp: SDP } });
    const held = await sessions.get(principal(), id);
    expect(held.offer.sdp).toMatch(/a=sendonly/);
    expect(held.answer?.sdp).toMatch(/a=recvonly/);
    expect((await sessions.updateStatus(principal(), id, { status: 'Resume' })).status).toBe('Resume');
    expect(lastModify(sip)).toMatchObject({ change: { kind: 'resume', localSdp: expect.stringMatching(/a=sendonly/) } });
    expect(events.statuses()).toEqual(['Connected', 'Hold', 'Resume']);
  });

  it("sends the app's new offer on a connected call and reports the new media with the same status", async () => {
    const { sessions, sip, id, events } = await connected();
    const offer = SDP.replace('o=- 1 1', 'o=- 1 5');
    expect((await sessions.updateStatus(principal(), id, { status: 'Connected', offer: { sdp: offer } })).status).toBe('Connected');
    expect(lastModify(sip)).toMatchObject({ change: { kind: 'offer', sdp: offer } });
    expect(events.statuses()).toEqual(['Connected', 'Connected']);
  });

  it('ends the session as Terminated and answers 409 when the far end no longer knows the dialog (481)', async () => {
    const { sessions, sip, id } = await connected();
    sip.requestOutcome = () => 481;
    await expect(sessions.updateStatus(principal(), id, { status: 'Hold' })).rejects.toMatchObject({ status: 409, code: 'INCOMPATIBLE_STATE' });
    expect((await sessions.get(principal(), id)).status).toBe('Terminated');
  });

  it('leaves the session unchanged and answers 502 when the far end refuses the re-INVITE', async () => {
    const { sessions, sip, id } = await connected();
    sip.requestOutcome = () => 488;
    await expect(sessions.updateStatus(principal(), id, { status: 'Hold' })).rejects.toMatchObject({ status: 502 });
    expect((await sessions.get(principal(), id)).status).toBe('Connected');
  });

  it('answers a far-end re-INVITE that holds us with recvonly and reports Hold', async () => {
    const { sip, id, callId, store, events } = await connected();
    const offer = SDP.replace('o=- 1 1', 'o=far 1 2') + 'a=sendonly\r\n';
    const answered = await sip.dialogRequest({ kind: 'offer', method: 'INVITE', callId, localTag: 'lt', remoteTag: 'rt', cseq: 5, sdp: offer });
    expect(answered.reply).toBe('accept');
    expect(answered.media?.sdp).toMatch(/a=recvonly/);
    await flush();
    expect((await store.get(id))?.status).toBe('Hold');
    expect(events.statuses().at(-1)).toBe('Hold');
  });

  it('answers 481 to a request in a dialog no session knows', async () => {
    const { sip } = await connected();
    expect((await sip.dialogRequest({ kind: 'bye', callId: 'unknown', localTag: 'lt', cseq: 2 })).reply).toBe('unknownDialog');
  });

  it('refuses Connected on an outgoing call that is still ringing with 409', async () => {
    const t = await setup();
    const { mediaSessionId } = await t.sessions.create(principal(), t.reg.registrationId, t.body());
    await expect(t.sessions.updateStatus(principal(), mediaSessionId, { status: 'Connected', answer: { sdp: SDP } })).rejects.toMatchObject({ status: 409, code: 'INCOMPATIBLE_STATE' });
  });
});
