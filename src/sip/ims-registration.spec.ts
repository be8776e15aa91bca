import type { SipMessage } from 'sip';
import type { ImsRegistration } from '../domain/registration-binding';
import { ICSI_MMTEL, imsInviteHeaders, parseImsRegistration, preferredIdentity, withImsOrigination } from './ims-registration';
import { buildRegister, sameContact } from './registration';
import type { OutgoingCall } from './sip-gateway';
import { decodeMessage } from './syntax/message-codec';
import { encodeMessage } from './wire';

const OURS = 'sip:reg1@127.0.0.1:5070';
const isOurs = (uri: string): boolean => sameContact(uri, OURS);
const REGISTER = { domain: 'ims.lab', phoneNumber: '+17085852753', contact: OURS, deviceId: '0f8fad5b-d9cb-469f-a165-70867728950e', expiresS: 600, callId: 'cid', cseq: 1 };

/** A 200 OK to REGISTER off the wire (our own decoder, as the stack receives it). */
function ok(extra: string[]): SipMessage {
  const text = [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1',
    'From: <sip:+17085852753@ims.lab>;tag=a',
    'To: <sip:+17085852753@ims.lab>;tag=b',
    'Call-ID: cid',
    'CSeq: 1 REGISTER',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const decoded = decodeMessage(Buffer.from(text), { maxBodyBytes: 65535 });
  if (decoded.kind !== 'message') throw new Error(`fixture did not decode: ${JSON.stringify(decoded)}`);
  return decoded.message;
}

describe('IMS registration profile (3GPP TS 24.229 §5.1.1.2)', () => {
  describe('REGISTER', () => {
    it.each<[string, Partial<typeof REGISTER> & { profile?: 'ims' | 'plain' }, string, string | undefined]>([
      [
        'ims with an instance: ICSI, audio, video; Supported path, gruu',
        { profile: 'ims' },
        'Contact: <sip:reg1@127.0.0.1:5070>;+sip.instance="<urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e>";+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel";audio;video;expires=600\r\n',
        'path, gruu',
      ],
      [
        'plain: only +sip.instance, no Supported',
        { profile: 'plain' },
        'Contact: <sip:reg1@127.0.0.1:5070>;+sip.instance="<urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e>";expires=600\r\n',
        undefined,
      ],
      ['no profile given: plain', {}, 'Contact: <sip:reg1@127.0.0.1:5070>;+sip.instance="<urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e>";expires=600\r\n', undefined],
    ])('%s', (_name, overrides, contactLine, supported) => {
      const rq = buildRegister({ ...REGISTER, ...overrides });
      expect(encodeMessage(rq).toString('utf8')).toContain(contactLine);
      expect(rq.headers.supported).toBe(supported);
    });

    it('does not claim gruu without a +sip.instance (RFC 5627 §4.1)', () => {
      const { deviceId: _omit, ...noInstance } = REGISTER;
      expect(buildRegister({ ...noInstance, profile: 'ims' }).headers.supported).toBe('path');
    });
  });

  describe('parseImsRegistration', () => {
    it.each<[string, string[], ImsRegistration]>([
      [
        'Service-Route in order over several lines, P-Associated-URI, Path, our GRUUs',
        [
          'Service-Route: <sip:orig@scscf.ims.lab:6060;lr>',
          'Service-Route: <sip:second@10.0.0.2;lr>',
          'P-Associated-URI: "Alice" <sip:+17085852753@ims.lab;user=phone>, <tel:+17085852753>',
          'Path: <sip:pcscf@10.0.0.9;lr>',
          'Contact: <sip:other@10.1.1.1:5070>;pub-gruu="sip:+1999@ims.lab;gr=urn:uuid:x";expires=100',
          'Contact: <sip:reg1@127.0.0.1:5070>;pub-gruu="sip:+17085852753@ims.lab;gr=urn:uuid:0f8f";temp-gruu="sip:tgruu.7hs@ims.lab;gr";expires=600',
        ],
        {
          serviceRoute: ['sip:orig@scscf.ims.lab:6060;lr', 'sip:second@10.0.0.2;lr'],
          associatedUris: ['sip:+17085852753@ims.lab;user=phone', 'tel:+17085852753'],
          path: ['sip:pcscf@10.0.0.9;lr'],
          pubGruu: 'sip:+17085852753@ims.lab;gr=urn:uuid:0f8f',
          tempGruu: 'sip:tgruu.7hs@ims.lab;gr',
        },
      ],
      ['a plain registrar: nothing', ['Contact: <sip:reg1@127.0.0.1:5070>;expires=600'], { serviceRoute: [], associatedUris: [], path: [] }],
      ['a GRUU that is not a quoted URI is dropped', ['Contact: <sip:reg1@127.0.0.1:5070>;pub-gruu=notquoted;temp-gruu="http://x";expires=600'], { serviceRoute: [], associatedUris: [], path: [] }],
    ])('%s', (_name, lines, expected) => {
      expect(parseImsRegistration(ok(lines), isOurs)).toEqual(expected);
    });

    it.each<[string, SipMessage['headers']]>([
      ['CR/LF inside a header value', { 'service-route': '<sip:a@b;lr>, <sip:c@d\r\nX-Evil: 1;lr>' }],
      ['an unparsable entry', { 'service-route': '<sip:a@b;lr>, <not a uri' }],
      ['a non-SIP URI scheme', { 'service-route': '<http://evil.example/;lr>' }],
    ])('drops a Service-Route with %s (no value from the network reaches a header unchecked)', (_name, headers) => {
      expect(parseImsRegistration({ status: 200, headers }, isOurs).serviceRoute).toEqual([]);
    });
  });

  describe('preferredIdentity', () => {
    it.each<[string, string[], string | undefined]>([
      ['the associated URI carrying the number', ['sip:alice@ims.lab', 'sip:+17085852753@ims.lab;user=phone'], 'sip:+17085852753@ims.lab;user=phone'],
      ['a tel URI with visual separators', ['sip:alice@ims.lab', 'tel:+1-708-585-2753'], 'tel:+1-708-585-2753'],
      ['the default (first) identity when none matches', ['sip:alice@ims.lab', 'sip:+1999@ims.lab'], 'sip:alice@ims.lab'],
      ['nothing when the registrar sent none', [], undefined],
    ])('picks %s', (_name, uris, expected) => {
      expect(preferredIdentity(uris, '+17085852753')).toBe(expected);
    });
  });

  describe('originating INVITE (TS 24.229 §5.1.2A.1)', () => {
    const call: OutgoingCall = {
      contactUser: 'reg1',
      from: { uri: 'sip:+17085852753@ims.lab' },
      to: { uri: 'sip:+15550009999@ims.lab' },
      requestUri: 'sip:+15550009999@ims.lab',
      body: { contentType: 'application/sdp', content: 'v=0\r\n' },
      headers: { Geolocation: '<cid:x>' },
    };
    const ims: ImsRegistration = { serviceRoute: ['sip:orig@10.0.0.1;lr', 'sip:s@10.0.0.2;lr'], associatedUris: ['sip:+17085852753@ims.lab'], path: [] };

    it.each<[string, boolean, ImsRegistration, Partial<OutgoingCall>]>([
      [
        'preloads the Service-Route and names MMTel and the preferred identity',
        false,
        ims,
        {
          route: ['sip:orig@10.0.0.1;lr', 'sip:s@10.0.0.2;lr'],
          headers: {
            Geolocation: '<cid:x>',
            'P-Preferred-Service': ICSI_MMTEL,
            'P-Preferred-Identity': '<sip:+17085852753@ims.lab>',
            'Accept-Contact': '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"',
          },
        },
      ],
      [
        'an anonymous caller gets no P-Preferred-Identity',
        true,
        ims,
        { headers: { Geolocation: '<cid:x>', 'P-Preferred-Service': ICSI_MMTEL, 'Accept-Contact': '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"' } },
      ],
    ])('%s', (_name, anonymous, reg, expected) => {
      const out = withImsOrigination(call, reg, '+17085852753', anonymous);
      expect(out).toMatchObject(expected);
      expect(out.headers).toEqual(expected.headers);
    });

    it('adds no Route when the registrar sent no Service-Route', () => {
      expect(withImsOrigination(call, { ...ims, serviceRoute: [] }, '+17085852753', false).route).toBeUndefined();
    });

    it('refuses a preferred identity that would inject a header', () => {
      expect(() => imsInviteHeaders('sip:a@b\r\nX: y')).toThrow(/control character/);
    });
  });
});
