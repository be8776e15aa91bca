import { decodeMessage, type Decoded } from './message-codec';

/** The decoder's header handling beyond the torture messages: credentials, Date, repeated and folded lines, refusals. */

const OPTS = { maxBodyBytes: 65_535 };
const decode = (lines: string[], body = ''): Decoded => decodeMessage(Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`), OPTS);
const HEAD = ['Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1', 'From: <sip:a@h>;tag=f', 'To: <sip:b@h>', 'Call-ID: c1'];
const request = (extra: string[], method = 'REGISTER'): Decoded => decode([`${method} sip:h SIP/2.0`, ...HEAD, `CSeq: 1 ${method}`, ...extra]);
const message = (d: Decoded) => {
  if (d.kind !== 'message') throw new Error(`not a message: ${JSON.stringify(d)}`);
  return d.message;
};

describe('decodeMessage headers (RFC 3261 §7.3, §20)', () => {
  it('reads credentials of every kind, several challenges across lines into one list', () => {
    const m = message(
      request([
        'Authorization: Digest username="u", realm="r"',
        'Proxy-Authorization: Digest username="p"',
        'WWW-Authenticate: Digest realm="a"',
        'WWW-Authenticate: Digest realm="b", nonce="n"',
        'Proxy-Authenticate: Digest realm="c"',
      ]),
    );
    expect(m.headers.authorization).toEqual([{ scheme: 'Digest', username: '"u"', realm: '"r"' }]);
    expect(m.headers['proxy-authorization']).toEqual([{ scheme: 'Digest', username: '"p"' }]);
    expect(m.headers['www-authenticate']).toEqual([
      { scheme: 'Digest', realm: '"a"' },
      { scheme: 'Digest', realm: '"b"', nonce: '"n"' },
    ]);
    expect(m.headers['proxy-authenticate']).toEqual([{ scheme: 'Digest', realm: '"c"' }]);
  });

  it('keeps an RFC 1123 Date and refuses any other form with 400', () => {
    expect(message(request(['Date: Sat, 13 Nov 2010 23:29:00 GMT'])).headers.date).toBe('Sat, 13 Nov 2010 23:29:00 GMT');
    expect(request(['Date: 2010-11-13T23:29:00Z'])).toMatchObject({ kind: 'bad-request', status: 400, reason: 'Date is not an RFC 1123 date in GMT' });
  });

  it('joins repeated lines of a header with commas and folds continuation lines into one space (§7.3.1)', () => {
    const m = message(request(['Supported: timer', 'Supported: 100rel', 'Subject: a', '  long', '\tsubject']));
    expect(m.headers.supported).toBe('timer,100rel');
    expect(m.headers.subject).toBe('a long subject');
  });

  it('reads Max-Forwards as a string and refuses one above 255', () => {
    expect(message(request(['Max-Forwards: 70'])).headers['max-forwards']).toBe('70');
    expect(request(['Max-Forwards: 256'])).toMatchObject({ kind: 'bad-request', status: 400, reason: 'Max-Forwards out of range' });
  });

  it('discards a request whose header section cannot be unfolded, naming the start line', () => {
    expect(decode(['OPTIONS sip:h SIP/2.0', ' continuation first', ...HEAD])).toEqual({ kind: 'discard', reason: 'OPTIONS sip:h SIP/2.0: continuation line before any header' });
    expect(decode(['OPTIONS sip:h SIP/2.0', 'Bad Header Name: x', ...HEAD])).toEqual({ kind: 'discard', reason: 'OPTIONS sip:h SIP/2.0: malformed header line' });
  });

  it('discards a request without Via, and a buffer without an end of header section', () => {
    expect(decode(['OPTIONS sip:h SIP/2.0', 'From: <sip:a@h>;tag=f'])).toEqual({ kind: 'discard', reason: 'request without Via' });
    expect(decodeMessage(Buffer.from('OPTIONS sip:h SIP/2.0\r\nVia: x\r\n'), OPTS)).toEqual({ kind: 'discard', reason: 'no end of header section' });
  });
});
