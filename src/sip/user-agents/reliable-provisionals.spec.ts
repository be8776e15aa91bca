import { EventEmitter } from 'node:events';
import type { IncomingCall, SipEventMap } from '../sip-gateway';
import { fakeCore, SDP_OFFER, serverTx } from './__testing__/fake-transaction-layer';
import { InDialogClient } from './in-dialog-client';
import type { Rel100Mode } from './reliable-provisional';
import { UserAgentServer } from './server';

const CALL_ID = 'rel-call-1';

function invite(extra: string[]): ReturnType<typeof serverTx> {
  return serverTx(
    [
      'INVITE sip:reg-1@127.0.0.1:5070 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKinv1',
      'From: "Bob" <sip:+15550001234@ims.lab>;tag=bob-tag',
      'To: <sip:+17085852753@ims.lab>',
      `Call-ID: ${CALL_ID}`,
      'CSeq: 1 INVITE',
      'Contact: <sip:bob@127.0.0.1:25060>',
      'Content-Type: application/sdp',
      ...extra,
    ],
    SDP_OFFER,
  );
}

function setup(rel100: Rel100Mode) {
  const core = fakeCore();
  const events = new EventEmitter<SipEventMap>();
  const server = new UserAgentServer(core, events, new InDialogClient(core), (user) => `sip:${user}@127.0.0.1:5070`, rel100, 500);
  const incoming: IncomingCall[] = [];
  events.on('call.incoming', (c) => incoming.push(c));
  const last = () => core.stack.responses.at(-1)?.rs;
  return { core, stack: core.stack, events, server, incoming, last };
}

describe(`${UserAgentServer.name}: ` + 'reliable provisional responses (RFC 3262)', () => {
  afterEach(() => jest.useRealTimers());

  function prack(localTag: string, rack: string): ReturnType<typeof serverTx> {
    return serverTx([
      'PRACK sip:reg-1@127.0.0.1:5070 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKprack1',
      'From: <sip:+15550001234@ims.lab>;tag=bob-tag',
      `To: <sip:+17085852753@ims.lab>;tag=${localTag}`,
      `Call-ID: ${CALL_ID}`,
      'CSeq: 2 PRACK',
      `RAck: ${rack}`,
    ]);
  }
  function ringing(mode: Rel100Mode, extra: string[]) {
    jest.useFakeTimers();
    const s = setup(mode);
    const tx = invite(extra);
    s.server.onRequest(tx.request, tx);
    s.server.progress(tx.id, { kind: 'ringing' });
    const sent = () => s.stack.responses.filter((r) => r.tx === tx).map((r) => r.rs);
    return { ...s, tx, sent, localTag: s.incoming[0]?.dialog.localTag ?? '' };
  }

  it('sends the 180 reliably when the caller requires 100rel and retransmits it at T1, 2·T1 until the PRACK (§3)', () => {
    const s = ringing('supported', ['Require: 100rel']);
    const [first] = s.sent();
    expect(first?.headers.require).toBe('100rel');
    const rseq = Number(first?.headers.rseq);
    expect(rseq).toBeGreaterThanOrEqual(1);
    jest.advanceTimersByTime(500);
    jest.advanceTimersByTime(1000);
    expect(s.sent().map((r) => [r.status, r.headers.rseq])).toEqual([
      [180, String(rseq)],
      [180, String(rseq)],
      [180, String(rseq)],
    ]);
    const p = prack(s.localTag, `${rseq} 1 INVITE`);
    s.server.onRequest(p.request, p);
    expect(s.stack.responses.find((r) => r.tx === p)?.rs.status).toBe(200);
    jest.advanceTimersByTime(10_000);
    expect(s.sent()).toHaveLength(3);
  });

  it('answers 481 to a PRACK that matches no unacknowledged reliable response (§7.2)', () => {
    const s = ringing('supported', ['Require: 100rel']);
    const p = prack(s.localTag, '999999999 1 INVITE');
    s.server.onRequest(p.request, p);
    expect(s.stack.responses.find((r) => r.tx === p)?.rs.status).toBe(481);
  });

  it('refuses the INVITE with a 5xx when the reliable 18x is never PRACKed within 64·T1 (§3)', () => {
    const s = ringing('supported', ['Require: 100rel']);
    const cancelled: unknown[] = [];
    s.events.on('call.cancelled', (c) => cancelled.push(c));
    jest.advanceTimersByTime(64 * 500);
    expect(s.sent().at(-1)?.status).toBe(500);
    expect(cancelled).toEqual([{ callId: CALL_ID, key: s.tx.id }]);
  });

  it.each<[Rel100Mode, string[], boolean]>([
    ['supported', ['Supported: 100rel'], false],
    ['required', ['Supported: 100rel'], true],
    ['required', [], false],
    ['supported', [], false],
  ])('SIP_100REL=%s, INVITE with %j: reliable 180 %s', (mode, extra, reliable) => {
    const s = ringing(mode, extra);
    expect(s.sent()[0]?.headers.rseq !== undefined).toBe(reliable);
  });

  it('refuses an INVITE that requires 100rel with 420 and Unsupported when SIP_100REL=disabled (RFC 3261 §8.2.2.3)', () => {
    const s = setup('disabled');
    const tx = invite(['Require: 100rel']);
    s.server.onRequest(tx.request, tx);
    expect(s.last()).toMatchObject({ status: 420, headers: { unsupported: '100rel' } });
    expect(s.incoming).toHaveLength(0);
  });
});
