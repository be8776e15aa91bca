import { decodeMessage, type Decoded } from './message-codec';

/**
 * Decoder rules the single-pass header reader must keep (RFC 3261 §7.3.1 header lines and
 * combining, §19.1.1 the Request-URI, §8.2.1 refusals), row by row.
 */

const OPTS = { maxBodyBytes: 100 };
const VIA = 'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n';
const REST = 'From: <sip:a@h>;tag=f\r\nTo: <sip:b@h>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n';
const request = (uri: string, extra = '', rest = REST): Buffer => Buffer.from(`OPTIONS ${uri} SIP/2.0\r\n${VIA}${extra}${rest}\r\n`, 'utf8');
const verdict = (d: Decoded): string => (d.kind === 'message' ? 'message' : d.kind === 'bad-request' ? `${d.status} ${d.reason}` : `discard: ${d.reason}`);

// a header section that cannot be split into lines is discarded (no header can be trusted to answer it)
describe('decodeMessage: header lines (RFC 3261 §7.3.1)', () => {
  const rows: { name: string; extra: string; verdict: string }[] = [
    { name: 'a header line without a colon is discarded', extra: 'NoColonHere\r\n', verdict: 'discard: OPTIONS sip:h SIP/2.0: malformed header line' },
    { name: 'a bare LF inside a header value is discarded', extra: 'Subject: a\nb\r\n', verdict: 'discard: OPTIONS sip:h SIP/2.0: bare CR or LF in the header section' },
    { name: 'a bare LF opening a header line is discarded', extra: '\nSubject: a\r\n', verdict: 'discard: OPTIONS sip:h SIP/2.0: bare CR or LF in the header section' },
    { name: 'a bare CR opening a header line is discarded', extra: '\rSubject: a\r\n', verdict: 'discard: OPTIONS sip:h SIP/2.0: bare CR or LF in the header section' },
    { name: 'positive control: the same header well formed', extra: 'Subject: a b\r\n', verdict: 'message' },
  ];
  it.each(rows)('$name', ({ extra, verdict: expected }) => {
    expect(verdict(decodeMessage(request('sip:h', extra), OPTS))).toBe(expected);
  });

  it('two Contact header lines are combined into one list, in order (§7.3.1)', () => {
    const d = decodeMessage(request('sip:h', 'Contact: <sip:one@h>\r\nContact: <sip:two@h>, <sip:three@h>\r\n'), OPTS);
    expect(d.kind === 'message' && d.message.headers.contact).toEqual([
      { uri: 'sip:one@h', params: {} },
      { uri: 'sip:two@h', params: {} },
      { uri: 'sip:three@h', params: {} },
    ]);
  });
});

describe('decodeMessage: the Request-URI (RFC 3261 §19.1.1, RFC 3966)', () => {
  const rows: { uri: string; verdict: string }[] = [
    { uri: 'tel:+15551234;x=sip:a', verdict: 'message' }, // another scheme that merely contains "sip:" is an absoluteURI
    { uri: 'sip:h', verdict: 'message' },
    { uri: 'sip:a@', verdict: '400 Request-URI: malformed SIP URI' },
    { uri: 'sip:h?subject=x', verdict: '400 headers in the Request-URI' },
  ];
  it.each(rows)('$uri → $verdict', ({ uri, verdict: expected }) => {
    expect(verdict(decodeMessage(request(uri), OPTS))).toBe(expected);
  });
});

describe('decodeMessage: a refusal names the Call-ID only when the request has one (RFC 3261 §8.2.1)', () => {
  it('without Call-ID the refusal has no callId field; with one it carries it', () => {
    const without = decodeMessage(Buffer.from(`OPTIONS sip:h SIP/3.0\r\n${VIA}CSeq: 1 OPTIONS\r\n\r\n`, 'utf8'), OPTS);
    const withId = decodeMessage(Buffer.from(`OPTIONS sip:h SIP/3.0\r\n${VIA}Call-ID: c9\r\nCSeq: 1 OPTIONS\r\n\r\n`, 'utf8'), OPTS);
    expect(without.kind).toBe('bad-request');
    expect(Object.hasOwn(without, 'callId')).toBe(false);
    expect(withId).toMatchObject({ kind: 'bad-request', status: 505, callId: 'c9' });
  });
});
