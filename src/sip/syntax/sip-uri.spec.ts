import { SipSyntaxError } from '../sip-syntax';
import { assertAnyUri, bareHost, hostForUri, isIpv6Reference, isValidHost, parseHostPort, parseSipUri, stringifySipUri } from './sip-uri';

/** RFC 3261 §19.1 / §25.1 SIP and SIPS URIs and RFC 5118 IPv6 references, case by case. */

describe('parseSipUri (RFC 3261 §19.1, §25.1)', () => {
  it.each<[string, ReturnType<typeof parseSipUri>]>([
    ['sip:alice@example.com', { schema: 'sip', host: 'example.com', params: {}, headers: {}, user: 'alice' }],
    [
      'SIPS:Alice:pw@[2001:db8::1]:5061;Transport=TCP;lr?subject=hi&priority=urgent',
      { schema: 'sips', host: '[2001:db8::1]', params: { transport: 'TCP', lr: null }, headers: { subject: 'hi', priority: 'urgent' }, port: 5061, user: 'Alice', password: 'pw' },
    ],
    ['sip:+1-555;phone-context=x%41@ims.example.', { schema: 'sip', host: 'ims.example.', params: {}, headers: {}, user: '+1-555;phone-context=x%41' }],
    ['sip:alice:@h', { schema: 'sip', host: 'h', params: {}, headers: {}, user: 'alice', password: '' }],
    ['sip:192.0.2.1:0', { schema: 'sip', host: '192.0.2.1', params: {}, headers: {}, port: 0 }],
    ['sip:h:65535', { schema: 'sip', host: 'h', params: {}, headers: {}, port: 65535 }],
    ['sip:a.b-c.example;maddr=[::1];x=a/b:c', { schema: 'sip', host: 'a.b-c.example', params: { maddr: '[::1]', x: 'a/b:c' }, headers: {} }],
    ['sip:h?x=&y=a/b?c', { schema: 'sip', host: 'h', params: {}, headers: { x: '', y: 'a/b?c' } }],
    ["sip:u!~*'()&=+$,/?@h", { schema: 'sip', host: 'h', params: {}, headers: {}, user: "u!~*'()&=+$,/?" }],
    ['sip:h;x=%2A', { schema: 'sip', host: 'h', params: { x: '%2A' }, headers: {} }],
  ])('reads %s', (text, uri) => {
    expect(parseSipUri(text)).toStrictEqual(uri); // no key set to undefined
  });

  it.each<string>([
    'tel:+1555',
    'sip:',
    'sip:al ice@h',
    'sip:<h>',
    'sip:a"b@h',
    'sip:al[ice@h',
    'sip:a:p@ss@h',
    'sip:-h.com',
    'sip:h_.com',
    'sip:256.1.1.1',
    'sip:[2001:db8::1',
    'sip:[zz]',
    'sip:1.2.3',
    'sip:h:65536',
    'sip:h:',
    'sip:h:abc',
    'sip:h:123456',
    'sip:h;=x',
    'sip:h;x=',
    'sip:h;x={',
    'sip:h?=x',
    'sip:h?x',
    'sip:h?x=a{b',
    'sip:' + 'a'.repeat(250) + '.com',
    'sip:com.1',
    'sip:%4@h',
    'sip:a:%zz@h',
    'sip:h;%4=1',
    'sip:h?a%g=1',
    'sip:h:1:2',
    'sip:[::1]x',
    'sip:[::1]:5060x',
    'sip:h;x=%4',
    'xsip:h',
    'sip:h\nx',
  ])('refuses %s', (text) => {
    expect(parseSipUri(text)).toBeUndefined();
  });
});

describe('hosts and ports (RFC 3261 §25.1, RFC 5118)', () => {
  it.each<[string, boolean]>([
    ['a', true],
    ['a.b', true],
    ['1.com', true],
    ['a-b.c', true],
    ['a.', true],
    ['[::1]', true],
    ['1.2.3.4', true],
    ['1.2.3.4.5', false],
    ['com.1', false],
    ['-a', false],
    ['a-', false],
    ['[1.2.3.4]', false],
    ['a'.repeat(254), false],
    ['a'.repeat(253), true],
    ['a..b', false],
    ['ab.c-.d', false],
  ])('isValidHost(%s) is %s', (host, valid) => {
    expect(isValidHost(host)).toBe(valid);
  });

  it.each<[string, ReturnType<typeof parseHostPort>]>([
    ['h', { host: 'h' }],
    ['h:5060', { host: 'h', port: 5060 }],
    ['[::1]:5', { host: '[::1]', port: 5 }],
    ['[::1', undefined],
    ['h:0x1', undefined],
    ['[::1]5', undefined],
  ])('parseHostPort(%s)', (text, hp) => {
    expect(parseHostPort(text)).toEqual(hp);
  });

  it('brackets IPv6 addresses for a URI and removes the brackets again (RFC 5118 §4.8)', () => {
    expect(hostForUri('2001:db8::1')).toBe('[2001:db8::1]');
    expect(hostForUri('h')).toBe('h');
    expect(hostForUri('1.2.3.4')).toBe('1.2.3.4');
    expect(bareHost('[::1]')).toBe('::1');
    expect(bareHost('[x')).toBe('[x');
    expect(bareHost('x]')).toBe('x]');
    expect(bareHost('h')).toBe('h');
    expect(isIpv6Reference('[]')).toBe(false);
    expect(isIpv6Reference('[::1]')).toBe(true);
    expect(isIpv6Reference('::1')).toBe(false);
    expect(isIpv6Reference('[1.2.3.4]')).toBe(false);
    expect(isIpv6Reference('[::1')).toBe(false);
    expect(isIpv6Reference('1::1]')).toBe(false);
  });
});

describe('stringifySipUri', () => {
  it('writes a string unchanged, and a parsed URI back with its IPv6 brackets, parameters and headers', () => {
    expect(stringifySipUri('sip:x@y')).toBe('sip:x@y');
    expect(stringifySipUri({ schema: '', host: 'h', params: {}, headers: {} })).toBe('sip:h');
    expect(stringifySipUri({ schema: 'sips', user: 'u', password: '', host: '2001:db8::1', port: NaN, params: { lr: null, t: 'x' }, headers: { a: '1', b: '2' } })).toBe(
      'sips:u:@[2001:db8::1];lr;t=x?a=1&b=2',
    );
    expect(stringifySipUri({ schema: 'sip', user: '', host: 'h', port: 5060, params: {}, headers: {} })).toBe('sip:h:5060');
    const text = 'sips:Alice:pw@[2001:db8::1]:5061;transport=TCP;lr?subject=hi&priority=urgent';
    expect(stringifySipUri(parseSipUri(text)!)).toBe(text);
  });
});

describe('assertAnyUri (RFC 3261 §25.1 absoluteURI)', () => {
  it.each<string>(['tel:+1555', 'urn:service:sos', 'SIP:h', 'sips:h', 'xsip:h', 'sipx:h'])('accepts %s', (text) => {
    expect(() => assertAnyUri(text, 'To')).not.toThrow();
  });

  it.each<[string, string]>([
    ['x', 'To: not a URI'],
    ['1x:y', 'To: not a URI'],
    [':y', 'To: not a URI'],
    ['sip:bad host', 'To: malformed SIP URI'],
    ['tel:', 'To: malformed URI'],
    ['tel:a b', 'To: malformed URI'],
    ['mailto:<x>', 'To: malformed URI'],
    ['tel:"x"', 'To: malformed URI'],
    ['ab', 'To: not a URI'],
  ])('refuses %s: %s', (text, error) => {
    expect(() => assertAnyUri(text, 'To')).toThrow(new SipSyntaxError(error));
  });
});
