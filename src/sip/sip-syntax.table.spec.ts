import type { SipAor } from 'sip';
import {
  assertHeaderValue,
  assertUri,
  extraHeaders,
  fromAor,
  generateCallId,
  headerString,
  parseAssertedIdentity,
  quoteString,
  sdpOf,
  SipSyntaxError,
  toAor,
  unquoteString,
  uriUser,
} from './sip-syntax';

/** The error a call throws, for asserting its class, name and message together. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof Error) return e;
    throw new Error(`threw a non-Error: ${String(e)}`, { cause: e });
  }
  throw new Error('did not throw');
}

describe('sip-syntax refusals name what was refused', () => {
  it.each<[string, () => unknown, string]>([
    ['a control character in a value', () => assertHeaderValue('a\r\nb', 'Subject'), 'Subject contains a control character (CR/LF/NUL...)'],
    ['a control character in a quoted-string', () => quoteString('a\nb'), 'quoted-string contains a control character (CR/LF/NUL...)'],
    ['a URI of another scheme', () => assertUri('http://x', 'Target'), 'Target is not a SIP/SIPS/TEL/URN URI'],
    ['a control character in a name-addr URI', () => toAor({ uri: 'sip:a@b\r\nX: y' }), 'URI contains a control character (CR/LF/NUL...)'],
    ['a header name that is not a token', () => extraHeaders({ 'Bad Name': 'x' }), 'header name "Bad Name" is not a token'],
    ['a header the layer writes', () => extraHeaders({ 'Call-ID': 'x' }), 'header Call-ID is set by the SIP layer'],
    ['a header value that is not a string', () => extraHeaders({ Priority: 5 as unknown as string }), 'header Priority must be a string'],
    ['a control character in a header value', () => extraHeaders({ Subject: 'a\u0000b' }), 'header Subject contains a control character (CR/LF/NUL...)'],
  ])('%s', (_, fn, message) => {
    const e = thrown(fn);
    expect(e).toBeInstanceOf(SipSyntaxError);
    expect(e.name).toBe('SipSyntaxError');
    expect(e.message).toBe(message);
  });
});

describe(generateCallId.name, () => {
  it('is a fresh UUID each time (RFC 3261 §8.1.1.4: globally unique)', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => generateCallId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe(unquoteString.name, () => {
  // RFC 3261 §25.1: a quoted-string is DQUOTE … DQUOTE; anything else is a token-form display name.
  it.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ['', undefined],
    ['   ', undefined],
    ['"', '"'],
    ['"abc', '"abc'],
    ['abc"', 'abc"'],
    ['a\\"b', 'a\\"b'],
    ['""', ''],
    [' "x\\\\y" ', 'x\\y'],
    ['  Bob  ', 'Bob'],
  ])('%j → %j', (raw, expected) => {
    expect(unquoteString(raw)).toBe(expected);
  });
});

describe(toAor.name, () => {
  it('writes no display name for an empty one', () => {
    expect(toAor({ uri: 'sip:a@b', displayName: '' })).toStrictEqual({ uri: 'sip:a@b', params: {} });
  });
});

describe(fromAor.name, () => {
  it.each<[string, SipAor | undefined, unknown]>([
    ['no name-addr', undefined, undefined],
    ['an empty URI', { uri: '', params: {} }, undefined],
    ['a URI the parser did not leave as text', { uri: 42, params: {} } as unknown as SipAor, undefined],
    ['a name-addr without display name', { uri: 'sip:a@b', params: {} }, { uri: 'sip:a@b' }],
    ['a blank display name', { name: '  ', uri: 'sip:a@b', params: {} }, { uri: 'sip:a@b' }],
    ['a token display name', { name: 'Ann', uri: 'sip:a@b', params: {} }, { uri: 'sip:a@b', displayName: 'Ann' }],
  ])('%s', (_, aor, expected) => {
    expect(fromAor(aor)).toStrictEqual(expected);
  });
});

describe(extraHeaders.name, () => {
  it('is empty without headers, and keeps the values of the ones given', () => {
    expect(extraHeaders(undefined)).toStrictEqual({});
    expect(extraHeaders({ Priority: 'emergency' })).toStrictEqual({ priority: 'emergency' });
  });
});

describe(uriUser.name, () => {
  it.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ['', undefined],
    ['sips:bob@ims.lab', 'bob'],
    ['SIP:Bob@ims.lab', 'Bob'],
    // Only a SIP/SIPS URI has a user part here; the scheme must start the text.
    ['urn:x:sip:alice@ims.lab', undefined],
    ['<sip:alice@ims.lab>', undefined],
    // A malformed escape is kept as written rather than refused.
    ['sip:%E0%A4%A@ims.lab', '%E0%A4%A'],
  ])('%j → %j', (uri, expected) => {
    expect(uriUser(uri)).toBe(expected);
  });
});

describe(sdpOf.name, () => {
  const sdp = 'v=0\r\ns=--bx\r\n';
  const part = (type: string, body: string): string => `Content-Type: ${type}\r\n\r\n${body}\r\n`;
  const multipart = (boundary: string, ...parts: string[]): string => `${parts.map((p) => `--${boundary}\r\n${p}`).join('')}--${boundary}--\r\n`;

  it.each<[string, string, string, string | undefined]>([
    ['application/sdp with parameters and spaces', 'Application/SDP ; charset=utf-8', sdp, sdp],
    ['a type that is not multipart, even with a boundary', 'text/plain; boundary=b1', multipart('b1', part('application/sdp', sdp)), undefined],
    ['a multipart without boundary', 'multipart/mixed', multipart('undefined', part('application/sdp', sdp)), undefined],
    // RFC 2046 §5.1.1: the delimiter is the whole boundary; a line starting with its first characters is content.
    ['the SDP part after another part', 'multipart/mixed; boundary=b1', multipart('b1', part('application/pidf+xml', '<x/>'), part('application/sdp', sdp)), sdp],
    ['a boundary with spaces around `=`', 'multipart/mixed; boundary = b1', multipart('b1', part('application/sdp', sdp)), sdp],
    ['a part header without space after the colon', 'multipart/mixed; boundary=b1', multipart('b1', 'Content-Type:application/sdp\r\n\r\nv=0\r\n'), 'v=0'],
    ['a part header with space before the colon', 'multipart/mixed; boundary=b1', multipart('b1', 'Content-Type : application/sdp\r\n\r\nv=0\r\n'), 'v=0'],
    ['a part whose header only ends in Content-Type', 'multipart/mixed; boundary=b1', multipart('b1', 'X-Content-Type: application/sdp\r\n\r\nv=0\r\n'), undefined],
    ['a part without the blank line after its headers', 'multipart/mixed; boundary=b1', '--b1\r\nContent-Type: application/sdp\r\nv=0\r\n--b1--', undefined],
    ['an application/sdp line in a part body', 'multipart/mixed; boundary=b1', multipart('b1', part('text/plain', 'see\r\nContent-Type: application/sdp')), undefined],
    ['no content', 'application/sdp', '', undefined],
  ])('%s', (_, type, content, expected) => {
    expect(sdpOf(type, content)).toBe(expected);
  });
});

describe(headerString.name, () => {
  it.each<[unknown, string | undefined]>([
    ['x', 'x'],
    ['', ''],
    [70, '70'],
    [undefined, undefined],
    [['a', 'b'], undefined],
    [{ uri: 'sip:a@b' }, undefined],
  ])('%j → %j', (value, expected) => {
    expect(headerString(value)).toBe(expected);
  });
});

describe(parseAssertedIdentity.name, () => {
  // RFC 3325 §9.1: PAssertedID-value = name-addr / addr-spec; only the first one is read.
  it.each<[string | undefined, unknown]>([
    [undefined, undefined],
    [' <>', undefined],
    [',sip:x@ims.lab', undefined],
    ['sip:first@ims.lab, "B" <sip:second@ims.lab>', { uri: 'sip:first@ims.lab' }],
    ['  Bob   <sip:b@ims.lab>', { uri: 'sip:b@ims.lab', displayName: 'Bob' }],
    ['"" <sip:b@ims.lab>', { uri: 'sip:b@ims.lab' }],
  ])('%j → %j', (value, expected) => {
    expect(parseAssertedIdentity(value)).toStrictEqual(expected);
  });
});
