import * as sip from 'sip';
import type { SipAorWithUri, SipMessage } from 'sip';
import type { DialogState } from './sip-gateway';
import { ackFor2xx, contactUri, inDialogRequest, isLooseRoute, mergeDialog, routeUris, uacDialogFromResponse, uasDialogFromInvite } from './dialog';
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

describe('dialog details', () => {
  it('reads Record-Route entries given as text or parsed URIs, and refuses one without a URI', () => {
    expect(routeUris(undefined)).toEqual([]);
    expect(
      routeUris([
        { uri: 'sip:p1;lr', params: {} },
        { uri: sip.parseUri('sip:p2.example.com;lr'), params: {} },
      ]),
    ).toEqual(['sip:p1;lr', 'sip:p2.example.com;lr']);
    expect(() => routeUris([{ params: {} } as unknown as SipAorWithUri])).toThrow('unparsable Record-Route URI');
  });

  it('takes the first Contact as remote target, none when absent or empty', () => {
    expect(contactUri(ok)).toBe('sip:uas@10.0.0.9:5090;transport=udp');
    expect(contactUri({ ...ok, headers: { ...ok.headers, contact: undefined } })).toBeUndefined();
    expect(contactUri({ ...ok, headers: { ...ok.headers, contact: [] } })).toBeUndefined();
    expect(contactUri({ ...ok, headers: { ...ok.headers, contact: [{ uri: '', params: {} }] } })).toBeUndefined();
  });

  it('UAC: only a 2xx confirms; without To tag, Contact or Record-Route the base values stand', () => {
    expect(uacDialogFromResponse(base, { ...ok, status: 299 }).state).toBe('confirmed');
    expect(uacDialogFromResponse(base, { ...ok, status: 199 }).state).toBe('early');
    expect(uacDialogFromResponse(base, { ...ok, status: 300 }).state).toBe('early');
    expect(uacDialogFromResponse(base, { ...ok, status: undefined }).state).toBe('early');
    const bare = { ...ok, headers: { ...ok.headers, to: { uri: 'sip:+15550009999@ims.lab', params: { tag: '' } }, contact: undefined, 'record-route': undefined } };
    const d = uacDialogFromResponse({ ...base, remoteTarget: 'sip:before@x' }, bare);
    expect(d).toMatchObject({ remoteTag: undefined, remoteTarget: 'sip:before@x', routeSet: [] });
  });

  it('UAS: refuses an INVITE without To or From; falls back to the From URI, keeps the To display name', () => {
    const inv: SipMessage = {
      method: 'INVITE',
      uri: 'sip:reg1@h',
      headers: { to: { name: '"Me"', uri: 'sip:me@ims.lab', params: {} }, from: { uri: 'sip:you@ims.lab', params: {} } },
    };
    const d = uasDialogFromInvite(inv, 'sip:reg1@h', 't');
    expect(d).toMatchObject({ callId: '', remoteTag: undefined, remoteTarget: 'sip:you@ims.lab', localDisplayName: 'Me', routeSet: [] });
    expect(d).not.toHaveProperty('remoteDisplayName');
    expect(uasDialogFromInvite(inv, 'sip:reg1@h').localTag).toMatch(/\S{8,}/);
    expect(() => uasDialogFromInvite({ ...inv, headers: { from: inv.headers.from } }, 'c')).toThrow('INVITE without To/From');
    expect(() => uasDialogFromInvite({ ...inv, headers: { to: inv.headers.to } }, 'c')).toThrow('INVITE without To/From');
  });

  it('recognises ;lr in any case and before any delimiter only', () => {
    for (const uri of ['sip:a;LR', 'sip:a;lr;x', 'sip:a;lr?h=1', 'sip:a;lr>']) expect(isLooseRoute(uri)).toBe(true);
    for (const uri of ['sip:a', 'sip:alr', 'sip:a;xlr', 'sip:a;lr-x']) expect(isLooseRoute(uri)).toBe(false);
  });

  it('in-dialog request: no Route without a route set, no remote tag when unknown, Max-Forwards 70, Contact on target refreshes only', () => {
    const d: DialogState = { ...base, remoteTarget: 'sip:t@h', routeSet: [] };
    const rq = inDialogRequest(d, 'INFO', 5);
    expect(rq.uri).toBe('sip:t@h');
    expect(rq.headers.route).toBeUndefined();
    expect(rq.headers.to?.params).toEqual({});
    expect(rq.headers.to?.name).toBeUndefined();
    expect(rq.headers.from?.params).toEqual({ tag: 'lt' });
    expect(rq.headers['max-forwards']).toBe(70);
    expect(rq.headers['call-id']).toBe('c1');
    expect(rq.headers.contact).toBeUndefined();
    for (const m of ['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']) expect(inDialogRequest(d, m, 6).headers.contact).toEqual([{ uri: 'sip:reg1@127.0.0.1:5070', params: {} }]);
    for (const m of ['ACK', 'BYE', 'CANCEL', 'PRACK']) expect(inDialogRequest(d, m, 6).headers.contact).toBeUndefined();
    const named = inDialogRequest({ ...d, remoteDisplayName: 'Bob', localDisplayName: undefined }, 'BYE', 7);
    expect(named.headers.to?.name).toBe('"Bob"');
    expect(named.headers.from?.name).toBeUndefined();
  });

  it('strict router: headers of the first route do not go into the Request-URI', () => {
    const d: DialogState = { ...base, routeSet: ['sip:10.0.0.1;maddr=10.0.0.5?X-H=1'], remoteTarget: 'sip:uas@10.0.0.9' };
    const rq = inDialogRequest(d, 'BYE', 3);
    expect(rq.uri).toBe('sip:10.0.0.1;maddr=10.0.0.5');
    expect(rq.headers.route?.map((r) => r.uri)).toEqual(['sip:uas@10.0.0.9']);
  });

  describe('mergeDialog', () => {
    const early = uacDialogFromResponse(base, { ...ok, status: 180 });
    it('keeps one side when the other is missing', () => {
      expect(mergeDialog(undefined, undefined)).toBeUndefined();
      expect(mergeDialog(early, undefined)).toBe(early);
      expect(mergeDialog(undefined, early)).toBe(early);
    });
    it('lets newer data win but never moves the CSeq back', () => {
      const merged = mergeDialog({ ...early, localSeq: 9 }, { ...early, localSeq: 3, remoteTarget: 'sip:new@h' });
      expect(merged).toMatchObject({ localSeq: 9, remoteTarget: 'sip:new@h' });
      expect(mergeDialog({ ...early, localSeq: 2 }, { ...early, localSeq: 4 })?.localSeq).toBe(4);
    });
    it('keeps the CANCEL data of the pending INVITE, the newest one winning', () => {
      const { invite: _dropped, ...noInvite } = early;
      expect(mergeDialog(early, noInvite)?.invite).toEqual(base.invite);
      const newer = { ...base.invite!, branch: 'z9hG4bKy' };
      expect(mergeDialog(early, { ...early, invite: newer })?.invite).toEqual(newer);
      expect(mergeDialog({ ...noInvite }, { ...noInvite })).not.toHaveProperty('invite');
    });
    it('drops the CANCEL data once the dialog is confirmed (RFC 3261 §9.1: nothing left to cancel)', () => {
      const { invite: _dropped, ...noInvite } = early;
      expect(mergeDialog(early, { ...noInvite, state: 'confirmed' })).not.toHaveProperty('invite');
      expect(mergeDialog(early, { ...early, state: 'confirmed' })).not.toHaveProperty('invite');
    });
  });
});

describe('dialog edges found by mutation testing', () => {
  it('UAC: a response without To, or with a valueless ;tag, gives no remote tag (and does not throw)', () => {
    const noTo: SipMessage = { ...ok, headers: { ...ok.headers } };
    delete noTo.headers.to;
    expect(uacDialogFromResponse(base, noTo).remoteTag).toBeUndefined();
    const bareTag: SipMessage = { ...ok, headers: { ...ok.headers, to: { uri: 'sip:+15550009999@ims.lab', params: { tag: null } } } };
    expect(uacDialogFromResponse(base, bareTag).remoteTag).toBeUndefined();
  });

  it('UAS: no display name in To/From leaves the dialog without those keys', () => {
    const invite = parse(`INVITE sip:reg1@127.0.0.1:5070 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKi
From: <sip:+15550009999@ims.lab>;tag=ft
To: <sip:+17085852753@ims.lab>
Call-ID: c2
CSeq: 7 INVITE
Content-Length: 0`);
    const d = uasDialogFromInvite(invite, 'sip:reg1@127.0.0.1:5070', 'lt2');
    expect(Object.keys(d)).not.toContain('localDisplayName');
    expect(Object.keys(d)).not.toContain('remoteDisplayName');
  });

  it('an in-dialog request without remote tag or display names puts no empty tag or name in To/From', () => {
    const d: DialogState = { ...base, remoteTag: undefined, localDisplayName: undefined, state: 'early' };
    delete d.localDisplayName;
    const rq = inDialogRequest(d, 'UPDATE', 3);
    expect(Object.keys(rq.headers.to?.params ?? {})).toEqual([]);
    const wire = encodeMessage(rq).toString();
    expect(wire).toMatch(/^To: <sip:\+15550009999@ims\.lab>\r$/m);
    expect(wire).toMatch(/^From: <sip:\+17085852753@ims\.lab>;tag=lt\r$/m);
  });
});
