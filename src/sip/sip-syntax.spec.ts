import { assertHeaderValue, extraHeaders, fromAor, generateBranch, generateTag, parseAssertedIdentity, quoteString, sdpOf, SipSyntaxError, toAor, unquoteString, uriUser } from './sip-syntax';

describe('sip-syntax', () => {
  it('generates strong, unique z9hG4bK branches and tags', () => {
    const branches = new Set(Array.from({ length: 10000 }, () => generateBranch()));
    expect(branches.size).toBe(10000);
    for (const b of Array.from(branches).slice(0, 10)) expect(b).toMatch(/^z9hG4bK[0-9a-f]{32}$/);
    expect(generateTag()).toMatch(/^[0-9a-f]{16}$/);
  });

  it('escapes " and \\ in quoted strings (RFC 3261 §25.1) and round-trips them', () => {
    expect(quoteString('Al "the" \\ Pal')).toBe('"Al \\"the\\" \\\\ Pal"');
    expect(unquoteString(quoteString('Al "the" \\ Pal'))).toBe('Al "the" \\ Pal');
    expect(unquoteString(' Bob Smith ')).toBe('Bob Smith');
    expect(unquoteString('""')).toBe('');
  });

  it.each(['a\r\nVia: x', 'a\nb', 'a\rb', 'a\u0000b', 'a\tb', 'a\u007fb'])('rejects control characters: %j', (v) => {
    expect(() => assertHeaderValue(v, 'x')).toThrow(SipSyntaxError);
    expect(() => quoteString(v)).toThrow(SipSyntaxError);
    expect(() => toAor({ uri: 'sip:a@b', displayName: v })).toThrow(SipSyntaxError);
    expect(() => extraHeaders({ 'P-Asserted-Identity': v })).toThrow(SipSyntaxError);
  });

  it('builds name-addr with quoted display names and validates URIs', () => {
    expect(toAor({ uri: 'sip:+1@ims.lab', displayName: 'Ann "A"' }, { tag: 'x' })).toEqual({ uri: 'sip:+1@ims.lab', name: '"Ann \\"A\\""', params: { tag: 'x' } });
    expect(toAor({ uri: 'tel:+1555' })).toEqual({ uri: 'tel:+1555', params: {} });
    expect(() => toAor({ uri: 'http://x' })).toThrow(SipSyntaxError);
    expect(() => toAor({ uri: 'sip:a@b>;x=<sip:c' })).toThrow(SipSyntaxError);
    expect(() => toAor({ uri: 'sip:a b@c' })).toThrow(SipSyntaxError);
    expect(fromAor({ name: '"Ann \\"A\\""', uri: 'sip:+1@ims.lab', params: {} })).toEqual({ uri: 'sip:+1@ims.lab', displayName: 'Ann "A"' });
  });

  it('accepts extension headers but refuses headers the layer owns and bad names', () => {
    expect(extraHeaders({ 'P-Asserted-Identity': '<sip:+1@ims.lab>', Geolocation: '<cid:x>' })).toEqual({ 'p-asserted-identity': '<sip:+1@ims.lab>', geolocation: '<cid:x>' });
    for (const h of ['Via', 'CSeq', 'call-id', 'Content-Length', 'Route', 'Contact', 'Proxy-Authorization', 'l']) {
      expect(() => extraHeaders({ [h]: 'x' })).toThrow(SipSyntaxError);
    }
    expect(() => extraHeaders({ 'Bad Name': 'x' })).toThrow(SipSyntaxError);
    expect(() => extraHeaders({ 'X:Y': 'x' })).toThrow(SipSyntaxError);
  });

  it('extracts the user of a SIP URI', () => {
    expect(uriUser('sip:reg-1@127.0.0.1:5070;transport=tcp')).toBe('reg-1');
    expect(uriUser('sip:%2B1555@ims.lab')).toBe('+1555');
    expect(uriUser('sip:ims.lab')).toBeUndefined();
    expect(uriUser('tel:+1555')).toBeUndefined();
  });

  it('finds the SDP in application/sdp and multipart bodies', () => {
    expect(sdpOf('application/sdp', 'v=0\r\n')).toBe('v=0\r\n');
    const mp = '--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\ns=-\r\n\r\n--b1\r\nContent-Type: application/pidf+xml\r\n\r\n<x/>\r\n--b1--\r\n';
    expect(sdpOf('multipart/mixed;boundary=b1', mp)).toBe('v=0\r\ns=-\r\n');
    expect(sdpOf('multipart/mixed; boundary="b1"', mp)).toBe('v=0\r\ns=-\r\n');
    expect(sdpOf('text/plain', 'x')).toBeUndefined();
    expect(sdpOf(undefined, 'x')).toBeUndefined();
  });
});

describe('parseAssertedIdentity', () => {
  it.each([
    ['"Bob \\"B\\"" <sip:+15550001234@ims.lab>', { uri: 'sip:+15550001234@ims.lab', displayName: 'Bob "B"' }],
    ['Bob B <sip:+15550001234@ims.lab>, <tel:+15550001234>', { uri: 'sip:+15550001234@ims.lab', displayName: 'Bob B' }],
    ['<tel:+15550001234>', { uri: 'tel:+15550001234' }],
    ['sip:+15550001234@ims.lab;user=phone', { uri: 'sip:+15550001234@ims.lab' }],
    ['', undefined],
  ])('reads the first identity of %j (RFC 3325 §9.1)', (value, expected) => {
    expect(parseAssertedIdentity(value)).toEqual(expected);
  });
});
