import type { DialogState, MediaChange, ModifyResult } from '../sip/sip-gateway';
import { flush, principal, SDP, setup } from './__testing__/sessions-harness';

/**
 * RFC 3261 §14.1 as the use cases see it: while an offer of ours is under way (e.g. waiting out its
 * glare back-off in the SIP port), a far-end offer is answered at once instead of queueing behind
 * ours, so that the port can send our retry after the far end's transaction completed.
 */
describe('a far-end offer while our offer is under way', () => {
  async function connected() {
    const t = await setup();
    const { mediaSessionId } = await t.sessions.create(principal(), t.reg.registrationId, t.body());
    const { callId } = t.lastInvite();
    t.sip.signal(callId, { kind: 'answered', code: 200, reason: 'OK', sdp: SDP.replace('o=- 1 1', 'o=far 1 1'), dialog: t.sip.answeredDialog(callId) });
    await flush();
    // our offer stays under way until the test lets the SIP port finish it
    let finish: (r: ModifyResult) => void = () => undefined;
    const started: Array<{ dialog: DialogState; change: MediaChange }> = [];
    t.sip.modify = (dialog: DialogState, change: MediaChange) => {
      started.push({ dialog, change });
      return new Promise<ModifyResult>((resolve) => (finish = resolve));
    };
    return { ...t, id: mediaSessionId, callId, started, finish: (r: ModifyResult) => finish(r) };
  }
  const farOffer = (dir: string) => `${SDP.replace('o=- 1 1', 'o=far 1 2')}a=${dir}\r\n`;

  it('answers the far end during our pending hold, then ends Hold with our held SDP and the far end CSeq kept', async () => {
    const t = await connected();
    const hold = t.sessions.updateStatus(principal(), t.id, { status: 'Hold' });
    await flush();
    expect(t.started).toHaveLength(1);

    const theirs = await t.sip.dialogRequest({ kind: 'offer', method: 'INVITE', callId: t.callId, localTag: 'lt', remoteTag: 'rt', cseq: 7, sdp: farOffer('sendrecv') });
    expect(theirs.reply).toBe('accept');
    expect(theirs.media?.sdp).toContain('a=sendrecv');

    const dialog = t.started[0]?.dialog as DialogState;
    const held = `${SDP.replace('o=- 1 1', 'o=- 1 3')}a=sendonly\r\n`;
    t.finish({ outcome: 'accepted', code: 200, reason: 'OK', offer: held, answer: farOffer('recvonly'), dialog: { ...dialog, localSeq: dialog.localSeq + 2 } });
    await expect(hold).resolves.toMatchObject({ status: 'Hold' });
    const s = await t.store.get(t.id);
    expect(s).toMatchObject({ status: 'Hold', localSdp: held });
    expect(s?.dialog).toMatchObject({ localSeq: dialog.localSeq + 2, remoteSeq: 7 });
    expect(t.events.statuses().at(-1)).toBe('Hold');
  });

  it('runs a far-end offer that queued behind our app request as soon as our offer starts', async () => {
    const t = await connected();
    // the app request takes the session queue first; the far-end offer arrives before its re-INVITE goes out
    const hold = t.sessions.updateStatus(principal(), t.id, { status: 'Hold' });
    const theirs = t.sip.dialogRequest({ kind: 'offer', method: 'INVITE', callId: t.callId, localTag: 'lt', remoteTag: 'rt', cseq: 8, sdp: farOffer('sendrecv') });
    await expect(theirs).resolves.toMatchObject({ reply: 'accept' });
    expect(t.started).toHaveLength(1);
    const dialog = t.started[0]?.dialog as DialogState;
    t.finish({ outcome: 'accepted', code: 200, reason: 'OK', offer: `${SDP}a=sendonly\r\n`, dialog: { ...dialog, localSeq: dialog.localSeq + 1 } });
    await expect(hold).resolves.toMatchObject({ status: 'Hold' });
  });

  it('still queues a far-end offer behind other work when no offer of ours is under way', async () => {
    const t = await connected();
    const order: string[] = [];
    let release: () => void = () => undefined;
    void t.transitions.serial(t.id, () => new Promise<void>((r) => (release = r)).then(() => void order.push('queued work')));
    const theirs = t.sip.dialogRequest({ kind: 'offer', method: 'INVITE', callId: t.callId, localTag: 'lt', remoteTag: 'rt', cseq: 9, sdp: farOffer('sendonly') }).then((r) => {
      order.push('far-end offer');
      return r;
    });
    await flush();
    expect(order).toEqual([]);
    release();
    await expect(theirs).resolves.toMatchObject({ reply: 'accept' });
    expect(order).toEqual(['queued work', 'far-end offer']);
  });
});
