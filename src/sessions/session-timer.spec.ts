import { SipFailure } from '../sip/sip-gateway';
import { flush, principal, SDP, setup } from './__testing__/sessions-harness';

/** RFC 4028 as the use cases see it: the SIP port's `dialog.refresh-due` and `dialog.expired` events. */
describe('session timers (RFC 4028 §10)', () => {
  async function connected() {
    const t = await setup();
    const { mediaSessionId } = await t.sessions.create(principal(), t.reg.registrationId, t.body());
    const { callId } = t.lastInvite();
    t.sip.signal(callId, { kind: 'answered', code: 200, reason: 'OK', sdp: SDP.replace('o=- 1 1', 'o=far 1 1'), dialog: t.sip.answeredDialog(callId) });
    await flush();
    const dialog = (await t.store.get(mediaSessionId))?.dialog;
    if (!dialog) throw new Error('no dialog stored');
    return { ...t, id: mediaSessionId, callId, localTag: dialog.localTag };
  }
  const byes = (t: Awaited<ReturnType<typeof connected>>) => t.sip.calls.filter((c) => c.op === 'hangUp');

  it('ends an expired session Terminated with the reason, reports it and sends BYE', async () => {
    const t = await connected();
    t.sip.emit('dialog.expired', { callId: t.callId, localTag: t.localTag });
    await flush();
    const s = await t.store.get(t.id);
    expect(s).toMatchObject({ status: 'Terminated', sipReason: 'session timer expired: no session refresh before the expiry' });
    expect(s?.sipCode).toBeUndefined();
    expect(t.events.statuses()).toEqual(['Connected', 'Terminated']);
    expect(byes(t)).toHaveLength(1);
  });

  it('refreshes with the stored dialog and our current SDP, and keeps the advanced CSeq', async () => {
    const t = await connected();
    const before = (await t.store.get(t.id))?.dialog?.localSeq ?? 0;
    t.sip.emit('dialog.refresh-due', { callId: t.callId, localTag: t.localTag });
    await flush();
    const refresh = t.sip.calls.find((c) => c.op === 'refreshSession');
    expect(refresh).toMatchObject({ op: 'refreshSession', localSdp: expect.stringContaining('o=- 1 1') });
    const s = await t.store.get(t.id);
    expect(s?.status).toBe('Connected');
    expect(s?.dialog?.localSeq).toBe(before + 1);
    expect(t.events.statuses()).toEqual(['Connected']);
  });

  it.each([
    [481, undefined, 'session timer expired: the refresh was answered 481 Nope'],
    [408, undefined, 'session timer expired: the refresh was answered 408 Nope'],
    [200, new SipFailure('timeout', 'UPDATE timed out'), 'session timer expired: the refresh failed (timeout)'],
  ])('ends the session with BYE when the refresh is answered %i / fails with %p', async (code, failure, reason) => {
    const t = await connected();
    t.sip.requestOutcome = () => code;
    t.sip.refreshFailure = failure;
    t.sip.emit('dialog.refresh-due', { callId: t.callId, localTag: t.localTag });
    await flush();
    await flush();
    expect(await t.store.get(t.id)).toMatchObject({ status: 'Terminated', sipReason: reason });
    expect(byes(t)).toHaveLength(1);
    expect(t.events.statuses().at(-1)).toBe('Terminated');
  });

  it('leaves a refused refresh (e.g. 500) to the expiry timer', async () => {
    const t = await connected();
    t.sip.requestOutcome = () => 500;
    t.sip.emit('dialog.refresh-due', { callId: t.callId, localTag: t.localTag });
    await flush();
    expect((await t.store.get(t.id))?.status).toBe('Connected');
    expect(byes(t)).toHaveLength(0);
  });

  it('ignores an expiry after the session already ended (no second BYE, no event)', async () => {
    const t = await connected();
    await t.sessions.remove(principal(), t.id);
    t.sip.emit('dialog.expired', { callId: t.callId, localTag: t.localTag });
    await flush();
    expect(byes(t)).toHaveLength(1);
    expect(t.events.statuses()).toEqual(['Connected', 'Terminated']);
  });
});
