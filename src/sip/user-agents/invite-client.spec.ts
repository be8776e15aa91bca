import type { CallSignal } from '../sip-gateway';
import { fakeCore, OUTGOING_CALL, SDP_OFFER } from './__testing__/fake-transaction-layer';
import { InDialogClient } from './in-dialog-client';
import { InviteClient } from './invite-client';
import type { Rel100Mode } from './reliable-provisional';

const CALL = OUTGOING_CALL;
const ANSWER = SDP_OFFER.replace('o=- 1 1', 'o=far 7 7');

function setup(mode?: Rel100Mode) {
  const core = fakeCore();
  const client = new InviteClient(core, new InDialogClient(core), mode);
  const signals: CallSignal[] = [];
  client.invite(CALL, 'sip:reg-1@127.0.0.1:5070', (s) => signals.push(s));
  const stack = core.stack;
  const reliable = (status: number, rseq: number, extra: Record<string, string> = {}) =>
    stack.respondTo(
      stack.last('INVITE'),
      status,
      'Session Progress',
      { require: '100rel', rseq: String(rseq), contact: [{ uri: 'sip:far@127.0.0.1:5090', params: {} }], 'content-type': 'application/sdp', ...extra },
      ANSWER,
    );
  const pracks = () => stack.requests.filter((r) => r.rq.method === 'PRACK').map((r) => ({ cseq: r.rq.headers.cseq?.seq, rack: r.rq.headers.rack, toTag: r.rq.headers.to?.params.tag }));
  return { stack, signals, reliable, pracks };
}

describe(InviteClient.name, () => {
  describe('reliable provisional responses (RFC 3262)', () => {
    it.each<[Rel100Mode | undefined, string | undefined, string | undefined]>([
      [undefined, '100rel', undefined],
      ['supported', '100rel', undefined],
      ['required', '100rel', '100rel'],
      ['disabled', undefined, undefined],
    ])('SIP_100REL=%s: the INVITE carries Supported %s and Require %s (§4)', (mode, supported, require) => {
      const { stack } = setup(mode);
      const { headers } = stack.last('INVITE').rq;
      expect(headers.supported).toBe(supported);
      expect(headers.require).toBe(require);
    });

    it('PRACKs a reliable 183 in its early dialog with RAck = RSeq, INVITE CSeq, and signals it once (§7.2)', () => {
      const { reliable, pracks, signals } = setup();
      reliable(183, 5001);
      expect(pracks()).toEqual([{ cseq: 2, rack: '5001 1 INVITE', toTag: 'remote-tag' }]);
      expect(signals).toEqual([expect.objectContaining({ kind: 'provisional', code: 183, sdp: ANSWER, dialog: expect.objectContaining({ localSeq: 2, state: 'early' }) as unknown })]);
    });

    it('discards a retransmitted reliable 183 (same RSeq): no second PRACK, no second signal (§4)', () => {
      const { reliable, pracks, signals } = setup();
      reliable(183, 5001);
      reliable(183, 5001);
      reliable(183, 5001);
      expect(pracks()).toHaveLength(1);
      expect(signals).toHaveLength(1);
    });

    it('PRACKs the next RSeq with the next CSeq, and discards one out of order', () => {
      const { reliable, pracks, signals } = setup();
      reliable(183, 7);
      reliable(180, 9);
      reliable(180, 8);
      expect(pracks().map((p) => [p.cseq, p.rack])).toEqual([
        [2, '7 1 INVITE'],
        [3, '8 1 INVITE'],
      ]);
      expect(signals.map((s) => (s.kind === 'provisional' ? s.code : s.kind))).toEqual([183, 180]);
    });

    it('requests after the PRACKs use a higher CSeq; the ACK keeps the INVITE CSeq (RFC 3261 §13.2.2.4)', () => {
      const { stack, reliable, signals } = setup();
      reliable(183, 1);
      stack.respondTo(stack.last('INVITE'), 200, 'OK', { contact: [{ uri: 'sip:far@127.0.0.1:5090', params: {} }] });
      const answered = signals.at(-1);
      expect(answered).toMatchObject({ kind: 'answered', dialog: { localSeq: 2, state: 'confirmed' } });
      expect(stack.stateless.map((m) => [m.method, m.headers.cseq?.seq])).toEqual([['ACK', 1]]);
    });

    it('does not PRACK an unreliable 180', () => {
      const { stack, pracks, signals } = setup();
      stack.respondTo(stack.last('INVITE'), 180, 'Ringing');
      expect(pracks()).toHaveLength(0);
      expect(signals).toHaveLength(1);
    });
  });

  describe('preloaded Route (RFC 3261 §8.1.2, RFC 3608 §6)', () => {
    const route = ['sip:orig@127.0.0.1:5060;lr', 'sip:scscf@10.0.0.2;lr'];

    it('puts the route in order on the INVITE and on its CANCEL (§9.1)', () => {
      const core = fakeCore();
      const client = new InviteClient(core, new InDialogClient(core));
      const handle = client.invite({ ...CALL, route }, 'sip:reg-1@127.0.0.1:5070', () => undefined);
      const invite = core.stack.last('INVITE');
      expect(invite.rq.headers.route?.map((r) => r.uri)).toEqual(route);
      core.stack.respondTo(invite, 180, 'Ringing', { contact: [{ uri: 'sip:far@127.0.0.1:5090', params: {} }] });
      client.cancel(handle.dialog);
      expect(core.stack.last('CANCEL').rq.headers.route?.map((r) => r.uri)).toEqual(route);
    });

    it('a CANCEL carries the Via of the INVITE as re-sent to the next outbound target (RFC 3263 §4.3, RFC 3261 §9.1)', () => {
      const core = fakeCore();
      const client = new InviteClient(core, new InDialogClient(core));
      const handle = client.invite(CALL, 'sip:reg-1@127.0.0.1:5070', () => undefined);
      const invite = core.stack.last('INVITE');
      const via = 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKnext-target';
      invite.h.onRetarget?.({ branch: 'z9hG4bKnext-target', via });
      core.stack.respondTo(invite, 180, 'Ringing', { contact: [{ uri: 'sip:far@127.0.0.1:5090', params: {} }] });
      client.cancel(handle.dialog);
      expect(core.stack.last('CANCEL').opts.via).toBe(via);
    });

    it('sends no Route without one', () => {
      const core = fakeCore();
      new InviteClient(core, new InDialogClient(core)).invite(CALL, 'sip:reg-1@127.0.0.1:5070', () => undefined);
      expect(core.stack.last('INVITE').rq.headers.route).toBeUndefined();
    });

    it('refuses a Route that would inject a header, before sending anything', () => {
      const core = fakeCore();
      const client = new InviteClient(core, new InDialogClient(core));
      expect(() => client.invite({ ...CALL, route: ['sip:a@b;lr\r\nX: y'] }, 'sip:reg-1@127.0.0.1:5070', () => undefined)).toThrow(/control character/);
      expect(core.stack.requests).toHaveLength(0);
    });
  });

  describe('2xx handling by the TU (RFC 3261 §13.2.2.4, RFC 6026 §7.2)', () => {
    const ok = (stack: ReturnType<typeof setup>['stack'], tag: string) =>
      stack.respondTo(
        stack.last('INVITE'),
        200,
        'OK',
        { to: { ...stack.last('INVITE').rq.headers.to!, params: { tag } }, contact: [{ uri: `sip:${tag}@127.0.0.1:5090`, params: {} }], 'content-type': 'application/sdp' },
        ANSWER,
      );

    it('ACKs a 2xx once, and a retransmission of it with the same ACK again, signalling the answer once', () => {
      const { stack, signals } = setup();
      ok(stack, 'fork1');
      expect(stack.stateless.map((m) => [m.method, m.headers.to?.params.tag, m.headers.cseq])).toEqual([['ACK', 'fork1', { seq: 1, method: 'ACK' }]]);
      ok(stack, 'fork1');
      expect(stack.stateless).toHaveLength(1);
      expect(stack.resent.map((m) => [m.method, m.headers.to?.params.tag])).toEqual([['ACK', 'fork1']]);
      expect(signals.filter((x) => x.kind === 'answered')).toHaveLength(1);
    });

    it('ACKs a second 2xx from another fork, then ends that dialog with a BYE', () => {
      const { stack, signals } = setup();
      ok(stack, 'fork1');
      ok(stack, 'fork2');
      expect(stack.stateless.map((m) => [m.method, m.headers.to?.params.tag])).toEqual([
        ['ACK', 'fork1'],
        ['ACK', 'fork2'],
      ]);
      const bye = stack.last('BYE').rq;
      expect(bye.headers.to?.params.tag).toBe('fork2');
      expect(bye.uri).toBe('sip:fork2@127.0.0.1:5090');
      expect(signals.filter((x) => x.kind === 'answered')).toHaveLength(1);
    });
  });
});
