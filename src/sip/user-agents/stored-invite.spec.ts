import { uasDialogFromInvite } from '../dialog';
import { encodeMessage } from '../syntax/message-writer';
import { stampReceived } from '../transactions/via';
import { serverTx } from './__testing__/fake-transaction-layer';
import { inviteServerOf, storedFinalResponse, storedResponseTarget } from './stored-invite';

const INVITE = [
  'INVITE sip:reg-1@127.0.0.1:5070 SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKproxy1;rport',
  'Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKcaller;received=192.0.2.8',
  'From: "Carol" <sip:+15550001111@ims.lab>;tag=from-1',
  'To: <sip:+17085854000@ims.lab>',
  'Call-ID: call-1@ims.lab',
  'CSeq: 7 INVITE',
  'Contact: <sip:carol@192.0.2.7:5062>',
  'Max-Forwards: 69',
];

describe('an incoming INVITE answered from its stored copy (RFC 3261 §8.2.6.2, §18.2.2)', () => {
  it('keeps every Via (the top one stamped with received/rport), From, To and CSeq, and rebuilds a final response the proxy matches', () => {
    const rq = serverTx(INVITE).request;
    stampReceived(rq, { address: '10.0.0.9', port: 5999, protocol: 'UDP' });
    const stored = inviteServerOf(rq);
    expect(stored).toEqual({
      via: ['SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKproxy1;rport=5999;received=10.0.0.9', 'SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKcaller;received=192.0.2.8'],
      from: '"Carol" <sip:+15550001111@ims.lab>;tag=from-1',
      to: '<sip:+17085854000@ims.lab>',
      cseq: 7,
    });
    const dialog = { ...uasDialogFromInvite(rq, 'sip:reg-1@127.0.0.1:5070', 'our-tag'), inviteServer: stored! };
    // a stored copy goes through JSON (the session store)
    const rs = storedFinalResponse(JSON.parse(JSON.stringify(dialog)) as typeof dialog, 480, 'Temporarily Unavailable');
    const wire = encodeMessage(rs).toString();
    expect(wire.split('\r\n')).toEqual(
      expect.arrayContaining([
        'SIP/2.0 480 Temporarily Unavailable',
        'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKproxy1;rport=5999;received=10.0.0.9',
        'Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKcaller;received=192.0.2.8',
        'From: "Carol" <sip:+15550001111@ims.lab>;tag=from-1',
        'To: <sip:+17085854000@ims.lab>;tag=our-tag',
        'Call-ID: call-1@ims.lab',
        'CSeq: 7 INVITE',
        'Content-Length: 0',
      ]),
    );
    // §18.2.2 / RFC 3581 §4: to the received address and rport of the top Via
    expect(storedResponseTarget(rs.headers.via![0]!)).toEqual({ address: '10.0.0.9', port: 5999 });
  });

  it.each([
    ['SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1', { address: '10.0.0.1', port: 5070 }],
    ['SIP/2.0/UDP proxy.lab;branch=z9hG4bK1;received=10.0.0.2', { address: '10.0.0.2', port: 5060 }],
    ['SIP/2.0/TLS proxy.lab;branch=z9hG4bK1;received=10.0.0.3', { address: '10.0.0.3', port: 5061 }],
    ['SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1;maddr=239.0.0.1', { address: '239.0.0.1', port: 5070 }],
    ['SIP/2.0/UDP [2001:db8::1]:5080;branch=z9hG4bK1;rport=6000;received=2001:db8::2', { address: '2001:db8::2', port: 6000 }],
  ])('sends the response for Via %s to %j', (via, target) => {
    const rq = serverTx(INVITE.map((l, i) => (i === 1 ? `Via: ${via}` : l)).filter((l) => !l.includes('z9hG4bKcaller'))).request;
    expect(storedResponseTarget(rq.headers.via![0]!)).toEqual(target);
  });

  it('keeps nothing when the request has more Vias than a sane path', () => {
    const vias = Array.from({ length: 17 }, (_, i) => `Via: SIP/2.0/UDP 10.0.0.${i + 1}:5060;branch=z9hG4bK${i}`);
    const rq = serverTx([INVITE[0]!, ...vias, ...INVITE.slice(3)]).request;
    expect(inviteServerOf(rq)).toBeUndefined();
    expect(inviteServerOf(serverTx(INVITE).request)).toBeDefined();
  });

  it('refuses a stored value with CR/LF (a tampered record never injects a header)', () => {
    const rq = serverTx(INVITE).request;
    const dialog = { ...uasDialogFromInvite(rq, 'sip:reg-1@127.0.0.1:5070', 't'), inviteServer: { ...inviteServerOf(rq)!, to: '<sip:a@b>\r\nX-Evil: 1' } };
    expect(() => storedFinalResponse(dialog, 480, 'Temporarily Unavailable')).toThrow();
    expect(() => storedFinalResponse({ ...dialog, inviteServer: inviteServerOf(rq)! }, 480, 'Temporarily Unavailable')).not.toThrow();
  });
});
