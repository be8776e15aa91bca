import * as sip from 'sip';
import type { SipMessage } from 'sip';
import type { DialogState } from './sip-gateway';
import { ackFor2xx, inDialogRequest, isLooseRoute, uacDialogFromResponse, uasDialogFromInvite } from './dialog';
import { decodeMessage, encodeMessage } from './wire';

const base: DialogState = {
  callId: 'c1',
  role: 'uac',
  localTag: 'lt',
  localUri: 'sip:+17085852753@ims.lab',
  localDisplayName: 'Ann "A"',
  remoteUri: 'sip:+15550009999@ims.lab',
  localSeq: 2,
  remoteTarget: 'sip:+15550009999@ims.lab',
  routeSet: [],
  localContact: 'sip:reg1@127.0.0.1:5070',
  state: 'early',
  invite: { requestUri: 'sip:+15550009999@ims.lab', branch: 'z9hG4bKx', cseq: 2, via: 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx' },
};

function parse(text: string): SipMessage {
  const m = decodeMessage(Buffer.from(text.replace(/\n/g, '\r\n') + '\r\n\r\n'));
  if (!m) throw new Error('unparsable fixture');
  return m;
}

const ok = parse(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx
Record-Route: <sip:10.0.0.2;lr;ftag=lt>
Record-Route: <sip:10.0.0.1;lr;nat=yes>
From: <sip:+17085852753@ims.lab>;tag=lt
To: <sip:+15550009999@ims.lab>;tag=rt
Call-ID: c1
CSeq: 2 INVITE
Contact: <sip:uas@10.0.0.9:5090;transport=udp>
Content-Length: 0`);

describe('dialogs', () => {
  it('UAC: builds the dialog from a 2xx (reversed Record-Route, Contact, To tag) and survives JSON', () => {
    const d = uacDialogFromResponse(base, ok);
    expect(d).toMatchObject({ remoteTag: 'rt', remoteTarget: 'sip:uas@10.0.0.9:5090;transport=udp', state: 'confirmed', routeSet: ['sip:10.0.0.1;lr;nat=yes', 'sip:10.0.0.2;lr;ftag=lt'] });
    expect(d.invite).toBeUndefined();
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });

  it('UAC: an early dialog from a 1xx keeps the CANCEL data', () => {
    const ringing = { ...ok, status: 180, reason: 'Ringing' };
    const d = uacDialogFromResponse(base, ringing);
    expect(d.state).toBe('early');
    expect(d.invite).toEqual(base.invite);
  });

  it('in-dialog request with loose routing: R-URI = remote target, Route = route set (RFC 3261 §12.2.1.1)', () => {
    const d = uacDialogFromResponse(base, ok);
    const bye = inDialogRequest(d, 'BYE', 3);
    const text = encodeMessage(bye).toString('utf8');
    expect(text.startsWith('BYE sip:uas@10.0.0.9:5090;transport=udp SIP/2.0\r\n')).toBe(true);
    expect(text).toMatch(/Route: +<sip:10\.0\.0\.1;lr;nat=yes>, +<sip:10\.0\.0\.2;lr;ftag=lt>/);
    expect(text).toMatch(/To: +<sip:\+15550009999@ims\.lab>;tag=rt/);
    expect(text).toContain('From: "Ann \\"A\\"" <sip:+17085852753@ims.lab>;tag=lt');
    expect(text).toContain('CSeq: 3 BYE');
    expect(text).not.toContain('Contact:');
    expect(inDialogRequest(d, 'INVITE', 4).headers.contact).toEqual([{ uri: 'sip:reg1@127.0.0.1:5070', params: {} }]);
  });

  it('in-dialog request with a strict router: first route becomes the R-URI, remote target goes last', () => {
    const d: DialogState = { ...base, remoteTag: 'rt', routeSet: ['sip:10.0.0.1', 'sip:10.0.0.2;lr'], remoteTarget: 'sip:uas@10.0.0.9' };
    const rq = inDialogRequest(d, 'BYE', 3);
    expect(rq.uri).toBe('sip:10.0.0.1');
    expect(rq.headers.route?.map((r) => r.uri)).toEqual(['sip:10.0.0.2;lr', 'sip:uas@10.0.0.9']);
    expect(isLooseRoute('sip:a;lr')).toBe(true);
    expect(isLooseRoute('sip:a;lr=on')).toBe(true);
    expect(isLooseRoute('sip:a;lrx')).toBe(false);
  });

  it('ACK for a 2xx uses the INVITE CSeq number with method ACK', () => {
    const ack = ackFor2xx(uacDialogFromResponse(base, ok), 2);
    expect(ack.method).toBe('ACK');
    expect(ack.headers.cseq).toEqual({ seq: 2, method: 'ACK' });
  });

  it('UAS: early dialog from an initial INVITE (Record-Route in order, From tag, Contact)', () => {
    const inv = parse(`INVITE sip:reg1@127.0.0.1:5070 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKk
Via: SIP/2.0/UDP 127.0.0.1:5077;branch=z9hG4bKs
Record-Route: <sip:127.0.0.1;lr;ftag=ft>
From: "Caller \\"X\\"" <sip:+15550001234@ims.lab>;tag=ft
To: <sip:+17085852753@ims.lab>
Call-ID: in-1
CSeq: 5 INVITE
Contact: <sip:sipp@127.0.0.1:5077>
Content-Length: 0`);
    const d = uasDialogFromInvite(inv, 'sip:reg1@127.0.0.1:5070', 'mytag');
    expect(d).toEqual({
      callId: 'in-1',
      role: 'uas',
      localTag: 'mytag',
      remoteTag: 'ft',
      localUri: 'sip:+17085852753@ims.lab',
      remoteUri: 'sip:+15550001234@ims.lab',
      remoteDisplayName: 'Caller "X"',
      localSeq: 0,
      remoteSeq: 5,
      remoteTarget: 'sip:sipp@127.0.0.1:5077',
      routeSet: ['sip:127.0.0.1;lr;ftag=ft'],
      localContact: 'sip:reg1@127.0.0.1:5070',
      state: 'early',
    });
    expect(sip.stringifyUri(inDialogRequest({ ...d, state: 'confirmed' }, 'BYE', 1).uri ?? '')).toBe('sip:sipp@127.0.0.1:5077');
  });
});
