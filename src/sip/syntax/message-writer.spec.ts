import type { SipMessage } from 'sip';
import { SipSyntaxError } from '../sip-syntax';
import { encodeMessage, writeHead } from './message-writer';

/** The message writer (RFC 3261 §7, §20.14): header names, one line per value, Content-Length counted, no CR/LF smuggled in. */

const text = (m: SipMessage): string => encodeMessage(m).toString('utf8');

describe('encodeMessage', () => {
  it('writes a request line, canonical header names and a counted UTF-8 Content-Length (RFC 3261 §20.14)', () => {
    const wire = text({
      method: 'MESSAGE',
      uri: { schema: 'sip', user: 'bob', host: '2001:db8::1', port: 5070, params: {}, headers: {} },
      headers: {
        'call-id': 'c1',
        cseq: { seq: 7, method: 'MESSAGE' },
        'www-authenticate': { scheme: 'Digest', realm: '"r"', nonce: '"n"' } as unknown as SipMessage['headers']['www-authenticate'],
        rseq: 1,
        rack: '1 7 INVITE',
        'mime-version': '1.0',
        'sip-etag': 'e1',
        'sip-if-match': 'e0',
        'p-asserted-identity': '<sip:+1@h>',
        'content-length': 999,
      },
      content: 'München',
    });
    expect(wire).toBe(
      'MESSAGE sip:bob@[2001:db8::1]:5070 SIP/2.0\r\n' +
        'Call-ID: c1\r\nCSeq: 7 MESSAGE\r\nWWW-Authenticate: Digest realm="r", nonce="n"\r\nRSeq: 1\r\nRAck: 1 7 INVITE\r\n' +
        'MIME-Version: 1.0\r\nSIP-ETag: e1\r\nSIP-If-Match: e0\r\nP-Asserted-Identity: <sip:+1@h>\r\n' +
        'Content-Length: 8\r\n\r\nMünchen',
    );
  });

  it('writes a status line (empty reason kept as a trailing space), every Via and auth value on its own line, list headers comma-joined', () => {
    const wire = text({
      version: '2.0',
      status: 401,
      headers: {
        via: [
          { version: '2.0', protocol: 'UDP', host: 'a', port: 1, params: { branch: 'z9hG4bK1' } },
          { version: '2.0', protocol: 'TCP', host: 'b', params: {} },
        ],
        'proxy-authenticate': [
          { scheme: 'Digest', realm: '"a"' },
          { scheme: 'Digest', realm: '"b"', stale: undefined },
        ],
        contact: [
          { uri: 'sip:x@h', params: {} },
          { uri: 'sip:y@h', params: { expires: '60' } },
        ],
        route: [],
        'record-route': [{ uri: { schema: 'sip', host: 'p', params: { lr: null }, headers: {} }, params: {} }],
        supported: ['timer', '100rel'],
        'x-empty': undefined,
        'x-null': null,
      },
    });
    expect(wire).toBe(
      'SIP/2.0 401 \r\n' +
        'Via: SIP/2.0/UDP a:1;branch=z9hG4bK1\r\nVia: SIP/2.0/TCP b\r\n' +
        'Proxy-Authenticate: Digest realm="a"\r\nProxy-Authenticate: Digest realm="b"\r\n' +
        'Contact: <sip:x@h>, <sip:y@h>;expires=60\r\n' +
        'Record-Route: <sip:p;lr>\r\n' +
        'Supported: timer\r\nSupported: 100rel\r\n' +
        'Content-Length: 0\r\n\r\n',
    );
  });

  it('writes To/From/Refer-To as name-addr, and a request without method or URI as empty fields', () => {
    const wire = text({
      uri: 42 as unknown as string,
      headers: {
        to: { name: 'Bob', uri: 'sip:bob@h', params: { tag: 't' } },
        from: { uri: { schema: 'sip', user: 'a', host: 'h', params: {}, headers: {} }, params: {} },
        'refer-to': { uri: 'sip:c@h', params: {} },
      } as unknown as SipMessage['headers'],
    });
    expect(wire).toBe('  SIP/2.0\r\nTo: Bob <sip:bob@h>;tag=t\r\nFrom: <sip:a@h>\r\nRefer-To: <sip:c@h>\r\nContent-Length: 0\r\n\r\n');
  });

  it('refuses a value it cannot serialise, and CR or LF anywhere in a header or the start line (RFC 3261 §7.3.1)', () => {
    expect(() => text({ method: 'OPTIONS', uri: 'sip:h', headers: { 'x-obj': { a: 1 } } })).toThrow(new SipSyntaxError('header x-obj has no serialiser for its value'));
    expect(() => text({ method: 'OPTIONS', uri: 'sip:h', headers: { subject: 'a\r\nX-Evil: 1' } })).toThrow(new SipSyntaxError('header subject contains CR or LF'));
    expect(() => text({ method: 'OPTIONS', uri: 'sip:h', headers: { subject: 'a\nb' } })).toThrow(SipSyntaxError);
    expect(() => text({ method: 'OPTIONS', uri: 'sip:h\r\nX: 1', headers: {} })).toThrow(new SipSyntaxError('header start line contains CR or LF'));
  });
});

describe('encodeMessage: credentials and Path', () => {
  it('writes Authorization, Proxy-Authorization (one line each) and Path as name-addrs', () => {
    const wire = text({
      method: 'REGISTER',
      uri: 'sip:h',
      headers: {
        authorization: { scheme: 'Digest', username: '"u"', realm: '"r"' },
        'proxy-authorization': [{ scheme: 'Digest', username: '"p"' }],
        path: [{ uri: 'sip:edge@h;lr', params: {} }],
      } as unknown as SipMessage['headers'],
    });
    expect(wire).toBe('REGISTER sip:h SIP/2.0\r\nAuthorization: Digest username="u", realm="r"\r\nProxy-Authorization: Digest username="p"\r\nPath: <sip:edge@h;lr>\r\nContent-Length: 0\r\n\r\n');
  });
});

describe('writeHead', () => {
  it('drops a given Content-Length in favour of the counted one', () => {
    expect(
      writeHead(
        'OPTIONS sip:h SIP/2.0',
        [
          ['content-length', '5'],
          ['max-forwards', '70'],
        ],
        0,
      ),
    ).toBe('OPTIONS sip:h SIP/2.0\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n');
  });
});
