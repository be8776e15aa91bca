import { EventEmitter } from 'node:events';
import type { RemoteDialogRequest, SipEventMap } from '../sip-gateway';
import { confirmedDialog, fakeCore, SDP_OFFER, serverTx } from './__testing__/fake-transaction-layer';
import { InDialogClient, versionAfter } from './in-dialog-client';
import { OfferExchanges } from './offer-exchanges';
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

  /** The far end's ACK for our 2xx to its re-INVITE with CSeq `cseq`. */
  function ackOf(d: ReturnType<typeof confirmedDialog>, cseq: number) {
    return serverTx([
      'ACK sip:reg-1@127.0.0.1:5070 SIP/2.0',
      `Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKack${cseq}`,
      `From: <${d.remoteUri}>;tag=${d.remoteTag ?? ''}`,
      `To: <${d.localUri}>;tag=${d.localTag}`,
      `Call-ID: ${d.callId}`,
      `CSeq: ${cseq} ACK`,
    ]).request;
  }
  const invitesSent = (s: ReturnType<typeof setup>) => s.stack.requests.filter((r) => r.rq.method === 'INVITE');

  it('our offer met by 491 is retried only after the §14.1 back-off and after the far end re-INVITE completed (ACK of our 2xx)', async () => {
    jest.useFakeTimers();
    const s = setup();
    const ours = s.inDialog.modify(s.dialog, { kind: 'hold', localSdp: SDP_OFFER });
    s.stack.respondTo(s.stack.last('INVITE'), 491, 'Request Pending');
    await Promise.resolve();
    await Promise.resolve();
    // during the back-off nothing of ours is in progress: the far end's offer is answered
    const theirs = s.farEnd('INVITE', 12);
    s.server.onRequest(theirs.request, theirs);
    expect(s.statusOf(theirs)).toBe(200);
    expect(invitesSent(s)).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(4100); // the back-off is over (uac: 2.1 s + random·1.9 s) …
    expect(invitesSent(s)).toHaveLength(1); // … but their re-INVITE is not complete before its ACK
    s.server.onAck(ackOf(s.dialog, 12), true);
    await jest.advanceTimersByTimeAsync(0);
    expect(invitesSent(s)).toHaveLength(2);
    // RFC 3264 §8: the retry builds on the answer we gave them (SDP_OFFER, version 1) with a newer version
    const retry = s.stack.last('INVITE').rq.content ?? '';
    expect(retry).toContain('o=- 1 2 IN IP4');
    expect(retry).toContain('a=sendonly');
    s.stack.respondTo(s.stack.last('INVITE'), 200, 'OK');
    await expect(ours).resolves.toMatchObject({ outcome: 'accepted', offer: retry });
  });

  it('a far-end UPDATE during our back-off completes with its answer; a re-INVITE whose 2xx is never ACKed holds our retry for 64·T1 at most', async () => {
    jest.useFakeTimers();
    const core = fakeCore();
    const events = new EventEmitter<SipEventMap>();
    const inDialog = new InDialogClient(core, () => 0, undefined, new OfferExchanges(3200));
    const server = new UserAgentServer(core, events, inDialog, (user) => `sip:${user}@127.0.0.1:5070`);
    events.on('dialog.request', (_req, reply) => reply.accept({ sdp: SDP_OFFER, dialog: confirmedDialog() }));
    const s = { ...setup(), stack: core.stack, inDialog, server };
    const ours = inDialog.modify(s.dialog, { kind: 'hold', localSdp: SDP_OFFER });
    core.stack.respondTo(core.stack.last('INVITE'), 491, 'Request Pending');
    await jest.advanceTimersByTimeAsync(0);
    const update = s.farEnd('UPDATE', 13);
    server.onRequest(update.request, update);
    const reinvite = s.farEnd('INVITE', 14);
    server.onRequest(reinvite.request, reinvite);
    await jest.advanceTimersByTimeAsync(2100 + 3100);
    expect(core.stack.requests.filter((r) => r.rq.method === 'INVITE')).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(200);
    expect(core.stack.requests.filter((r) => r.rq.method === 'INVITE')).toHaveLength(2);
    core.stack.respondTo(core.stack.last('INVITE'), 200, 'OK');
    await expect(ours).resolves.toMatchObject({ outcome: 'accepted' });
  });

  it('a far-end offer refused (488) is complete at once: the retry goes after the back-off, our offer unchanged', async () => {
    jest.useFakeTimers();
    const core = fakeCore();
    const events = new EventEmitter<SipEventMap>();
    const inDialog = new InDialogClient(core, () => 0);
    const server = new UserAgentServer(core, events, inDialog, (user) => `sip:${user}@127.0.0.1:5070`);
    events.on('dialog.request', (_req, reply) => reply.notAcceptable());
    const s = { ...setup(), stack: core.stack };
    const ours = inDialog.modify(s.dialog, { kind: 'hold', localSdp: SDP_OFFER });
    const first = core.stack.last('INVITE').rq.content;
    core.stack.respondTo(core.stack.last('INVITE'), 491, 'Request Pending');
    await jest.advanceTimersByTimeAsync(0);
    const theirs = s.farEnd('INVITE', 15);
    server.onRequest(theirs.request, theirs);
    await jest.advanceTimersByTimeAsync(2100);
    expect(core.stack.requests.filter((r) => r.rq.method === 'INVITE')).toHaveLength(2);
    expect(core.stack.last('INVITE').rq.content).toBe(first);
    core.stack.respondTo(core.stack.last('INVITE'), 200, 'OK');
    await expect(ours).resolves.toMatchObject({ outcome: 'accepted' });
  });
});

describe('versionAfter (RFC 3264 §8)', () => {
  const app = (v: string) => SDP_OFFER.replace('o=- 1 1 ', `o=- 1 ${v} `);
  it('raises the o= version of the app offer above what we last sent', () => {
    expect(versionAfter(app('1'), app('7'))).toContain('o=- 1 8 IN IP4');
  });
  it('keeps an app offer that is already newer', () => {
    expect(versionAfter(app('9'), app('7'))).toBe(app('9'));
  });
  it('counts beyond 2^53 exactly', () => {
    expect(versionAfter(app('1'), app('18446744073709551614'))).toContain('o=- 1 18446744073709551615 IN IP4');
  });
});
