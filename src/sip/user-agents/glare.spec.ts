import { EventEmitter } from 'node:events';
import type { RemoteDialogRequest, SipEventMap } from '../sip-gateway';
import { confirmedDialog, fakeCore, SDP_OFFER, serverTx } from './__testing__/fake-transaction-layer';
import { InDialogClient } from './in-dialog-client';
import { UserAgentServer } from './server';

/** RFC 3261 §14 / RFC 3311 §5.2: offers that cross in one dialog. */
describe('glare: a far-end offer while ours is in progress', () => {
  afterEach(() => jest.useRealTimers());

  function setup() {
    const core = fakeCore();
    const events = new EventEmitter<SipEventMap>();
    const inDialog = new InDialogClient(core, () => 0);
    const server = new UserAgentServer(core, events, inDialog, (user) => `sip:${user}@127.0.0.1:5070`);
    const toFeature: RemoteDialogRequest[] = [];
    events.on('dialog.request', (req, reply) => {
      toFeature.push(req);
      reply.accept({ sdp: SDP_OFFER, dialog: confirmedDialog() });
    });
    const d = confirmedDialog();
    const farEnd = (method: 'INVITE' | 'UPDATE', cseq: number) =>
      serverTx(
        [
          `${method} sip:reg-1@127.0.0.1:5070 SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfar${cseq}`,
          `From: <${d.remoteUri}>;tag=${d.remoteTag ?? ''}`,
          `To: <${d.localUri}>;tag=${d.localTag}`,
          `Call-ID: ${d.callId}`,
          `CSeq: ${cseq} ${method}`,
          'Contact: <sip:far@127.0.0.1:5090>',
          'Content-Type: application/sdp',
        ],
        SDP_OFFER.replace('o=- 1 1', 'o=far 2 2'),
      );
    const statusOf = (tx: ReturnType<typeof serverTx>) => core.stack.responses.find((r) => r.tx === tx)?.rs.status;
    return { stack: core.stack, inDialog, server, toFeature, farEnd, statusOf, dialog: d };
  }

  it.each(['INVITE', 'UPDATE'] as const)('answers a far-end %s 491 while our re-INVITE is pending, without telling the feature (§14.2)', async (method) => {
    const s = setup();
    const ours = s.inDialog.modify(s.dialog, { kind: 'hold', localSdp: SDP_OFFER });
    const theirs = s.farEnd(method, 10);
    s.server.onRequest(theirs.request, theirs);
    expect(s.statusOf(theirs)).toBe(491);
    expect(s.toFeature).toHaveLength(0);
    s.stack.respondTo(s.stack.last('INVITE'), 200, 'OK', { 'content-type': 'application/sdp' }, SDP_OFFER.replace('a=sendrecv', 'a=recvonly'));
    await expect(ours).resolves.toMatchObject({ outcome: 'accepted', offer: expect.stringContaining('a=sendonly') as unknown });
  });

  it('passes a far-end offer on again once ours was answered', async () => {
    const s = setup();
    const ours = s.inDialog.modify(s.dialog, { kind: 'hold', localSdp: SDP_OFFER });
    s.stack.respondTo(s.stack.last('INVITE'), 200, 'OK');
    await ours;
    const theirs = s.farEnd('INVITE', 11);
    s.server.onRequest(theirs.request, theirs);
    expect(s.statusOf(theirs)).toBe(200);
    expect(s.toFeature).toHaveLength(1);
  });

  it('our offer met by 491 is retried only after the §14.1 back-off, and the far end is not blocked meanwhile', async () => {
    jest.useFakeTimers();
    const s = setup();
    const ours = s.inDialog.modify(s.dialog, { kind: 'hold', localSdp: SDP_OFFER });
    s.stack.respondTo(s.stack.last('INVITE'), 491, 'Request Pending');
    await Promise.resolve();
    await Promise.resolve();
    // during the back-off nothing of ours is in progress: the far end's retried offer goes through
    const theirs = s.farEnd('INVITE', 12);
    s.server.onRequest(theirs.request, theirs);
    expect(s.statusOf(theirs)).toBe(200);
    expect(s.stack.requests.filter((r) => r.rq.method === 'INVITE')).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(2100); // owner of the Call-ID (uac): 2.1 s + random·1.9 s
    expect(s.stack.requests.filter((r) => r.rq.method === 'INVITE')).toHaveLength(2);
    s.stack.respondTo(s.stack.last('INVITE'), 200, 'OK');
    await expect(ours).resolves.toMatchObject({ outcome: 'accepted' });
  });
});
