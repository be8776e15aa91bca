import { EventEmitter } from 'node:events';
import type { SipMessage } from 'sip';
import type { DialogReply, IncomingCall, RejectCause, RemoteDialogRequest, SipEventMap } from '../sip-gateway';
import { confirmedDialog, fakeCore, SDP_OFFER, serverTx } from './__testing__/fake-transaction-layer';
import { InDialogClient } from './in-dialog-client';
import { REJECT_RESPONSES, UserAgentServer } from './server';

const CALL_ID = 'in-call-1';

function invite(extra: string[] = []): ReturnType<typeof serverTx> {
  return serverTx(
    [
      'INVITE sip:reg-1@127.0.0.1:5070 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKinv1',
      'Record-Route: <sip:127.0.0.1:5060;lr>',
      'From: "Bob" <sip:+15550001234@ims.lab>;tag=bob-tag',
      'To: <sip:+17085852753@ims.lab>',
      `Call-ID: ${CALL_ID}`,
      'CSeq: 1 INVITE',
      'Contact: <sip:bob@127.0.0.1:25060>',
      'P-Asserted-Identity: "Bob B." <sip:+15550001234@ims.lab>',
      'Content-Type: application/sdp',
      ...extra,
    ],
    SDP_OFFER,
  );
}

function inDialog(method: string, body?: { type: string; content: string }): ReturnType<typeof serverTx> {
  return serverTx(
    [
      `${method} sip:reg-1@127.0.0.1:5070 SIP/2.0`,
      'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKdlg1',
      'From: <sip:+15550001234@ims.lab>;tag=bob-tag',
      'To: <sip:+17085852753@ims.lab>;tag=our-tag',
      `Call-ID: ${CALL_ID}`,
      `CSeq: 7 ${method}`,
      ...(body ? [`Content-Type: ${body.type}`] : []),
    ],
    body?.content ?? '',
  );
}

function setup() {
  const core = fakeCore();
  const events = new EventEmitter<SipEventMap>();
  const inDialogClient = new InDialogClient(core);
  const server = new UserAgentServer(core, events, inDialogClient, (user) => `sip:${user}@127.0.0.1:5070`);
  const incoming: IncomingCall[] = [];
  events.on('call.incoming', (c) => incoming.push(c));
  const last = (): SipMessage => {
    const r = core.stack.responses.at(-1);
    if (!r) throw new Error('no response sent');
    return r.rs;
  };
  return { core, stack: core.stack, events, server, incoming, last };
}

/** Emits one in-dialog request and returns what the listener received. */
function dialogRequest(s: ReturnType<typeof setup>, tx: ReturnType<typeof serverTx>): { request: RemoteDialogRequest; reply: DialogReply } {
  let got: { request: RemoteDialogRequest; reply: DialogReply } | undefined;
  s.events.on('dialog.request', (request, reply) => (got = { request, reply }));
  s.server.onRequest(tx.request, tx);
  if (!got) throw new Error('no dialog.request emitted');
  return got;
}

function ackLines(localTag: string, cseq = 1): string[] {
  return [
    'ACK sip:reg-1@127.0.0.1:5070 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKack${cseq}`,
    'From: <sip:+15550001234@ims.lab>;tag=bob-tag',
    `To: <sip:+17085852753@ims.lab>;tag=${localTag}`,
    `Call-ID: ${CALL_ID}`,
    `CSeq: ${cseq} ACK`,
  ];
}

describe(UserAgentServer.name, () => {
  describe('incoming INVITE', () => {
    it('emits call.incoming with the key, the early dialog, the SDP and the asserted identity', () => {
      const s = setup();
      const tx = invite();
      s.server.onRequest(tx.request, tx);
      expect(s.incoming).toEqual([
        expect.objectContaining({
          key: tx.id,
          contactUser: 'reg-1',
          sdp: SDP_OFFER,
          assertedIdentity: { uri: 'sip:+15550001234@ims.lab', displayName: 'Bob B.' },
          dialog: expect.objectContaining({ role: 'uas', state: 'early', remoteTag: 'bob-tag', routeSet: ['sip:127.0.0.1:5060;lr'] }) as unknown,
        }),
      ]);
    });

    it.each([
      ['ringing', 180, 'Ringing'],
      ['session-progress', 183, 'Session Progress'],
    ] as const)('progress %s -> %i with our To tag', (kind, code, reason) => {
      const s = setup();
      const tx = invite();
      s.server.onRequest(tx.request, tx);
      s.server.progress(tx.id, { kind, ...(code === 183 && { sdp: SDP_OFFER }) });
      expect(s.last()).toMatchObject({ status: code, reason, headers: { to: { params: { tag: s.incoming[0]?.dialog.localTag } } } });
      expect(s.last().content).toBe(code === 183 ? SDP_OFFER : undefined);
    });

    it('answer -> 200 with SDP, our Contact, the Record-Route and Allow', () => {
      const s = setup();
      const tx = invite();
      s.server.onRequest(tx.request, tx);
      s.server.answer(tx.id, SDP_OFFER);
      const rs = s.last();
      expect(rs.status).toBe(200);
      expect(rs.content).toBe(SDP_OFFER);
      expect(rs.headers['content-type']).toBe('application/sdp');
      expect(rs.headers.contact).toEqual([{ uri: 'sip:reg-1@127.0.0.1:5070', params: {} }]);
      expect(rs.headers['record-route']).toHaveLength(1);
      expect(rs.headers.allow).toMatch(/UPDATE/);
    });

    it.each((Object.entries(REJECT_RESPONSES) as Array<[RejectCause, { code: number; reason: string }]>).map(([cause, r]) => [cause, r.code, r.reason] as const))(
      'reject %s -> %i %s',
      (cause, code, reason) => {
        const s = setup();
        const tx = invite();
        s.server.onRequest(tx.request, tx);
        s.server.reject(tx.id, cause);
        expect(s.last()).toMatchObject({ status: code, reason });
      },
    );

    it('the reject table follows RFC 3261 §21', () => {
      expect(REJECT_RESPONSES).toEqual({
        declined: { code: 603, reason: 'Decline' },
        unavailable: { code: 480, reason: 'Temporarily Unavailable' },
        'not-acceptable': { code: 488, reason: 'Not Acceptable Here' },
        error: { code: 500, reason: 'Server Internal Error' },
        busy: { code: 486, reason: 'Busy Here' },
      });
    });

    it('a second final answer is not sent', () => {
      const s = setup();
      const tx = invite();
      s.server.onRequest(tx.request, tx);
      s.server.reject(tx.id, 'declined');
      s.server.answer(tx.id, SDP_OFFER);
      expect(s.stack.responses.map((r) => r.rs.status)).toEqual([603]);
    });

    it('nobody listening -> 480', () => {
      const s = setup();
      s.events.removeAllListeners('call.incoming');
      const tx = invite();
      s.server.onRequest(tx.request, tx);
      expect(s.last().status).toBe(480);
    });

    it('CANCEL -> 200 to the CANCEL, 487 to the INVITE and call.cancelled (RFC 3261 §9.2)', () => {
      const s = setup();
      const tx = invite();
      s.server.onRequest(tx.request, tx);
      s.stack.invites.set(CALL_ID, tx);
      const cancelled: Array<{ callId: string; key: string }> = [];
      s.events.on('call.cancelled', (c) => cancelled.push(c));
      const cancel = serverTx([
        'CANCEL sip:reg-1@127.0.0.1:5070 SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKinv1',
        'From: <sip:+15550001234@ims.lab>;tag=bob-tag',
        'To: <sip:+17085852753@ims.lab>',
        `Call-ID: ${CALL_ID}`,
        'CSeq: 1 CANCEL',
      ]);
      s.server.onRequest(cancel.request, cancel);
      expect(s.stack.responses.map((r) => [r.rs.status, r.rs.headers.cseq?.method])).toEqual([
        [200, 'CANCEL'],
        [487, 'INVITE'],
      ]);
      expect(cancelled).toEqual([{ callId: CALL_ID, key: tx.id }]);
    });
  });

  describe('after our 2xx (RFC 3261 §13.3.1.4)', () => {
    function answered() {
      const s = setup();
      const tx = invite();
      s.server.onRequest(tx.request, tx);
      s.server.answer(tx.id, SDP_OFFER);
      const localTag = s.incoming[0]?.dialog.localTag ?? '';
      const ack = serverTx([
        'ACK sip:reg-1@127.0.0.1:5070 SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKack1',
        'From: <sip:+15550001234@ims.lab>;tag=bob-tag',
        `To: <sip:+17085852753@ims.lab>;tag=${localTag}`,
        `Call-ID: ${CALL_ID}`,
        'CSeq: 1 ACK',
      ]);
      const confirmed: unknown[] = [];
      const unconfirmed: unknown[] = [];
      s.events.on('call.confirmed', (c) => confirmed.push(c));
      s.events.on('call.unconfirmed', (c) => unconfirmed.push(c));
      return { ...s, localTag, ack, confirmed, unconfirmed };
    }

    it('the ACK confirms the call', () => {
      const s = answered();
      s.server.onAck(s.ack.request, true);
      expect(s.confirmed).toEqual([{ callId: CALL_ID, localTag: s.localTag }]);
      s.server.on2xxTimeout(CALL_ID, s.localTag);
      expect(s.stack.requests).toHaveLength(0);
      expect(s.unconfirmed).toHaveLength(0);
    });

    it('without ACK the server ends the dialog with a BYE and emits call.unconfirmed', () => {
      const s = answered();
      s.server.on2xxTimeout(CALL_ID, s.localTag);
      const bye = s.stack.last('BYE').rq;
      expect(bye.uri).toBe('sip:bob@127.0.0.1:25060');
      expect(bye.headers.to?.params.tag).toBe('bob-tag');
      expect(bye.headers.from?.params.tag).toBe(s.localTag);
      expect(bye.headers.route).toEqual([{ uri: 'sip:127.0.0.1:5060;lr', params: {} }]);
      expect(s.unconfirmed).toEqual([{ callId: CALL_ID, localTag: s.localTag }]);
      expect(s.confirmed).toHaveLength(0);
    });

    it("passes on the ACK's SDP: the answer when our 2xx made the offer (offerless INVITE, RFC 3261 §13.2.1)", () => {
      const s = answered();
      const withSdp = serverTx([...ackLines(s.localTag), 'Content-Type: application/sdp'], SDP_OFFER);
      s.server.onAck(withSdp.request, true);
      expect(s.confirmed).toEqual([{ callId: CALL_ID, localTag: s.localTag, sdp: SDP_OFFER }]);
    });

    it('the ACK with SDP of a 2xx to a re-INVITE emits dialog.answer (our offer to an offerless re-INVITE, §14.2)', () => {
      const s = answered();
      s.server.onAck(s.ack.request, true);
      const answers: unknown[] = [];
      s.events.on('dialog.answer', (a) => answers.push(a));
      s.server.onAck(serverTx([...ackLines(s.localTag, 2), 'Content-Type: application/sdp'], SDP_OFFER).request, true);
      s.server.onAck(serverTx(ackLines(s.localTag, 3)).request, true);
      expect(answers).toEqual([{ callId: CALL_ID, localTag: s.localTag, sdp: SDP_OFFER }]);
    });

    it('an ACK that stopped no retransmission confirms nothing', () => {
      const s = answered();
      s.server.onAck(s.ack.request, false);
      expect(s.confirmed).toHaveLength(0);
    });
  });

  describe('requests inside a dialog', () => {
    it.each([
      ['BYE', undefined, { kind: 'bye' }],
      ['INVITE', { type: 'application/sdp', content: SDP_OFFER }, { kind: 'offer', method: 'INVITE', sdp: SDP_OFFER }],
      ['UPDATE', undefined, { kind: 'offer', method: 'UPDATE' }],
      ['INFO', { type: 'application/dtmf-relay', content: 'Signal=5\r\n' }, { kind: 'info', body: { contentType: 'application/dtmf-relay', content: 'Signal=5\r\n' } }],
      ['MESSAGE', undefined, { kind: 'other', method: 'MESSAGE' }],
    ])('%s -> dialog.request %j', (method, body, expected) => {
      const s = setup();
      const { request } = dialogRequest(s, inDialog(method, body));
      expect(request).toEqual({ callId: CALL_ID, localTag: 'our-tag', remoteTag: 'bob-tag', cseq: 7, ...expected });
      // RFC 3261 §15.1.2: only the far end's BYE ends the dialog (its Call-ID's routing affinity goes)
      expect(s.stack.ended).toEqual(method === 'BYE' ? [CALL_ID] : []);
    });

    it.each([
      ['unknownDialog', 481, 'Call/Transaction Does Not Exist'],
      ['notAcceptable', 488, 'Not Acceptable Here'],
      ['pending', 491, 'Request Pending'],
      ['notAllowed', 405, 'Method Not Allowed'],
      ['accept', 200, 'OK'],
    ] as const)('reply.%s() -> %i %s', (method, code, reason) => {
      const s = setup();
      const { reply } = dialogRequest(s, inDialog('UPDATE'));
      reply[method]();
      expect(s.last()).toMatchObject({ status: code, reason });
      if (method === 'notAllowed') expect(s.last().headers.allow).toMatch(/INVITE/);
    });

    it('reply.unavailable(5) -> 500 with Retry-After: 5 (RFC 3261 §21.5.1), never 481', () => {
      const s = setup();
      const { reply } = dialogRequest(s, inDialog('BYE'));
      reply.unavailable(5);
      expect(s.last()).toMatchObject({ status: 500, reason: 'Server Internal Error', headers: { 'retry-after': '5' } });
    });

    it('accepting an offer sends our SDP and the session Contact', () => {
      const s = setup();
      const { reply } = dialogRequest(s, inDialog('INVITE', { type: 'application/sdp', content: SDP_OFFER }));
      reply.accept({ sdp: SDP_OFFER, dialog: confirmedDialog({ localContact: 'sip:reg-9@127.0.0.1:5070' }) });
      expect(s.last()).toMatchObject({ status: 200, content: SDP_OFFER, headers: { 'content-type': 'application/sdp', contact: [{ uri: 'sip:reg-9@127.0.0.1:5070', params: {} }] } });
    });

    it('a second reply is ignored', () => {
      const s = setup();
      const { reply } = dialogRequest(s, inDialog('BYE'));
      reply.accept();
      reply.unknownDialog();
      expect(s.stack.responses.map((r) => r.rs.status)).toEqual([200]);
    });

    it('nobody listening -> 481', () => {
      const s = setup();
      const tx = inDialog('BYE');
      s.server.onRequest(tx.request, tx);
      expect(s.last().status).toBe(481);
    });
  });

  describe('requests outside any dialog', () => {
    it('OPTIONS -> 200 with Allow and Accept', () => {
      const s = setup();
      const tx = serverTx([
        'OPTIONS sip:reg-1@127.0.0.1:5070 SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKopt',
        'From: <sip:x@ims.lab>;tag=x',
        'To: <sip:reg-1@ims.lab>',
        'Call-ID: o1',
        'CSeq: 1 OPTIONS',
      ]);
      s.server.onRequest(tx.request, tx);
      expect(s.last()).toMatchObject({ status: 200, headers: { accept: 'application/sdp' } });
    });

    it.each([
      ['BYE', 481],
      ['MESSAGE', 405],
    ])('%s without To tag -> %i', (method, code) => {
      const s = setup();
      const tx = serverTx([
        `${method} sip:reg-1@127.0.0.1:5070 SIP/2.0`,
        'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx',
        'From: <sip:x@ims.lab>;tag=x',
        'To: <sip:reg-1@ims.lab>',
        'Call-ID: o2',
        `CSeq: 1 ${method}`,
      ]);
      s.server.onRequest(tx.request, tx);
      expect(s.last().status).toBe(code);
    });
  });
});
