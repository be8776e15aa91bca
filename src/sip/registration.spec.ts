import type { SipMessage } from 'sip';
import { buildRegister, grantedExpires, sameContact } from './registration';
import { SipSyntaxError } from './sip-syntax';
import { encodeMessage } from './wire';

const params = { domain: 'ims.lab', phoneNumber: '+17085852753', contact: 'sip:reg1@127.0.0.1:5070', deviceId: '0f8fad5b-d9cb-469f-a165-70867728950e', expiresS: 600, callId: 'cid', cseq: 3 };

describe('REGISTER', () => {
  it('builds R-URI, AoR, Contact with +sip.instance and expires, Expires header', () => {
    const text = encodeMessage(buildRegister(params)).toString('utf8');
    expect(text.startsWith('REGISTER sip:ims.lab SIP/2.0\r\n')).toBe(true);
    expect(text).toContain('To: <sip:+17085852753@ims.lab>\r\n');
    expect(text).toMatch(/From: +<sip:\+17085852753@ims\.lab>;tag=[0-9a-f]+\r\n/);
    expect(text).toContain('Contact: <sip:reg1@127.0.0.1:5070>;+sip.instance="<urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e>";expires=600\r\n');
    expect(text).toContain('Expires: 600\r\n');
    expect(text).toContain('CSeq: 3 REGISTER\r\n');
    expect(text).toContain('Call-ID: cid\r\n');
  });

  it('drops a stale binding of another instance in the same request (expires=0 first)', () => {
    const rq = buildRegister({ ...params, staleContact: 'sip:reg1@10.0.0.7:5070' });
    const c = rq.headers.contact;
    expect(Array.isArray(c) && c.map((x) => [x.uri, x.params.expires])).toEqual([
      ['sip:reg1@10.0.0.7:5070', '0'],
      ['sip:reg1@127.0.0.1:5070', '600'],
    ]);
    const same = buildRegister({ ...params, staleContact: 'sip:reg1@127.0.0.1:5070' }).headers.contact;
    expect(Array.isArray(same) && same.length).toBe(1);
  });

  it('validates its inputs', () => {
    expect(() => buildRegister({ ...params, phoneNumber: '17085852753' })).toThrow(SipSyntaxError);
    expect(() => buildRegister({ ...params, deviceId: 'x">;evil' })).toThrow(SipSyntaxError);
    expect(() => buildRegister({ ...params, contact: 'sip:a@b\r\nX: y' })).toThrow(SipSyntaxError);
  });

  it('reads the expiry granted to OUR contact, then the Expires header, then what was asked', () => {
    const rs = (headers: SipMessage['headers']): SipMessage => ({ status: 200, headers });
    const contacts = [
      { uri: 'sip:other@10.0.0.1:5070', params: { expires: '3600' } },
      { uri: 'sip:reg1@127.0.0.1:5070', params: { expires: '300' } },
    ];
    expect(grantedExpires(rs({ contact: contacts, expires: '900' }), 'sip:reg1@127.0.0.1:5070', 600)).toBe(300);
    expect(grantedExpires(rs({ contact: contacts.slice(0, 1), expires: '900' }), 'sip:reg1@127.0.0.1:5070', 600)).toBe(900);
    expect(grantedExpires(rs({}), 'sip:reg1@127.0.0.1:5070', 600)).toBe(600);
  });

  it('compares contacts on user, host, port and transport', () => {
    expect(sameContact('sip:a@HOST:5060', 'sip:a@host')).toBe(true);
    expect(sameContact('sip:a@host:5070', 'sip:a@host:5071')).toBe(false);
    expect(sameContact('sip:a@host;transport=tcp', 'sip:a@host')).toBe(false);
  });
});
