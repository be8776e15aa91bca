import { SipSyntaxError } from '../sip-syntax';
import * as hv from './header-values';

/**
 * The header-value grammar of RFC 3261 §25.1 the gateway reads (parameters, Via §20.42 with RFC 5118
 * IPv6 and RFC 3581 rport, name-addr §20.10, CSeq §8.1.1.5, bounded integers, digest challenges),
 * case by case: each row is an input and what it gives, or the SipSyntaxError it is refused with.
 */

type Fn =
  | 'splitOutside'
  | 'parseParams'
  | 'stringifyParams'
  | 'parseViaValue'
  | 'parseViaList'
  | 'stringifyVia'
  | 'viaAddress'
  | 'parseNameAddr'
  | 'parseNameAddrList'
  | 'parseCSeq'
  | 'parseBoundedInt'
  | 'parseAuthList'
  | 'stringifyAuth';
type Outcome = { ok: unknown } | { error: string };
const call = (fn: Fn, args: unknown[]): unknown => (hv[fn] as (...a: unknown[]) => unknown)(...args);

describe('header values (RFC 3261 §25.1)', () => {
  it.each<[Fn, unknown[], Outcome]>([
    ['splitOutside', ['a,b', ','], { ok: ['a', 'b'] }],
    ['splitOutside', ['"a,b",c', ','], { ok: ['"a,b"', 'c'] }],
    ['splitOutside', ['<sip:a;b>;c', ';'], { ok: ['<sip:a;b>', 'c'] }],
    ['splitOutside', ['"a\\"b,c",d', ','], { ok: ['"a\\"b,c"', 'd'] }],
    ['splitOutside', ['"ab', ','], { error: 'unterminated quoted string' }],
    ['splitOutside', ['<sip:a', ','], { error: 'unterminated <' }],
    ['splitOutside', ['', ','], { ok: [''] }],
    ['splitOutside', ['a>,b', ','], { ok: ['a>', 'b'] }],
    ['splitOutside', ['<"x>,y', ','], { ok: ['<"x>', 'y'] }],
    ['parseParams', [''], { ok: {} }],
    ['parseParams', ['  '], { ok: {} }],
    ['parseParams', [';a=1;B;c="x;y"'], { ok: { a: '1', b: null, c: '"x;y"' } }],
    ['parseParams', [' ; lr ; tag = x '], { ok: { lr: null, tag: 'x' } }],
    ['parseParams', ['a=1'], { error: 'unexpected text before parameters' }],
    ['parseParams', [';=1'], { error: 'empty or malformed parameter name' }],
    ['parseParams', [';a='], { error: 'malformed value of parameter a' }],
    ['parseParams', [';a=b c'], { error: 'malformed value of parameter a' }],
    ['parseParams', [';received=2001:db8::1'], { ok: { received: '2001:db8::1' } }],
    ['parseParams', [';maddr=[2001:db8::1]'], { ok: { maddr: '[2001:db8::1]' } }],
    ['parseParams', [';a="unterminated'], { error: 'unterminated quoted string' }],
    ['parseParams', [';a=<x>'], { error: 'malformed value of parameter a' }],
    ['parseParams', [';a b=1'], { error: 'empty or malformed parameter name' }],
    ['stringifyParams', [{}], { ok: '' }],
    ['parseViaValue', ['SIP/2.0/UDP h;branch=z9hG4bK1'], { ok: { version: '2.0', protocol: 'UDP', host: 'h', params: { branch: 'z9hG4bK1' } } }],
    [
      'parseViaValue',
      ['sip / 2.0 / tcp [2001:db8::1] : 5070 ;rport;received=2001:db8::9'],
      { ok: { version: '2.0', protocol: 'TCP', host: '[2001:db8::1]', params: { rport: null, received: '2001:db8::9' }, port: 5070 } },
    ],
    [
      'parseViaValue',
      ['SIP/2.0/UDP 192.0.2.1:5060;rport=5061;received=192.0.2.2'],
      { ok: { version: '2.0', protocol: 'UDP', host: '192.0.2.1', params: { rport: '5061', received: '192.0.2.2' }, port: 5060 } },
    ],
    ['parseViaValue', ['SIP/2.0/UDP h:99999'], { error: 'malformed Via sent-by' }],
    ['parseViaValue', ['SIP/2.0 UDP h'], { error: 'malformed Via' }],
    ['parseViaValue', ['SIP/2.0/UDP'], { error: 'malformed Via' }],
    ['parseViaValue', ['SIP/2.0/UDP -h'], { error: 'malformed Via sent-by' }],
    ['parseViaValue', ['SIP/2.0/UDP h;received=not_an_ip'], { error: 'malformed Via received' }],
    ['parseViaValue', ['SIP/2.0/UDP h;received=[::1]'], { ok: { version: '2.0', protocol: 'UDP', host: 'h', params: { received: '[::1]' } } }],
    ['parseViaValue', ['SIP/2.0/UDP h;rport=x'], { error: 'malformed Via rport' }],
    ['parseViaValue', ['SIP/2.0/UDP h;rport=123456'], { error: 'malformed Via rport' }],
    ['parseViaValue', ['SIP/2/UDP h'], { error: 'malformed Via' }],
    ['parseViaValue', ['SIP/2.0/UDP h x'], { error: 'malformed Via' }],
    ['parseViaValue', ['SIP/2.0/UDP [::1'], { error: 'malformed Via' }],
    ['parseViaValue', ['SIP/2.0/UDP h;received=1.2.3'], { error: 'malformed Via received' }],
    [
      'parseViaList',
      ['SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b:5061'],
      {
        ok: [
          { version: '2.0', protocol: 'UDP', host: 'a', params: { branch: 'z9hG4bK1' } },
          { version: '2.0', protocol: 'TCP', host: 'b', params: {}, port: 5061 },
        ],
      },
    ],
    ['stringifyVia', [{ version: '2.0', protocol: 'udp', host: 'h', port: 5060, params: { branch: 'z9hG4bK1', rport: null } }], { ok: 'SIP/2.0/UDP h:5060;branch=z9hG4bK1;rport' }],
    ['stringifyVia', [{ version: '3.0', protocol: 'TLS', host: 'h', params: {} }], { ok: 'SIP/3.0/TLS h' }],
    ['viaAddress', [{ protocol: 'UDP', host: '[::1]', params: {} }], { ok: '::1' }],
    ['viaAddress', [{ protocol: 'UDP', host: 'h', params: {} }], { ok: 'h' }],
    ['parseNameAddr', ['"Alice \\"A\\"" <sip:a@h>;tag=1'], { ok: { uri: 'sip:a@h', params: { tag: '1' }, name: '"Alice \\"A\\""' } }],
    ['parseNameAddr', ['Alice Smith <sip:a@h>'], { ok: { uri: 'sip:a@h', params: {}, name: 'Alice Smith' } }],
    ['parseNameAddr', ['<sip:a@h;lr>;expires=60'], { ok: { uri: 'sip:a@h;lr', params: { expires: '60' } } }],
    ['parseNameAddr', ['sip:a@h;tag=2'], { ok: { uri: 'sip:a@h', params: { tag: '2' } } }],
    ['parseNameAddr', ['  tel:+1555  '], { ok: { uri: 'tel:+1555', params: {} } }],
    ['parseNameAddr', ['"unterminated <sip:a@h>'], { error: 'unterminated quoted display name' }],
    ['parseNameAddr', ['"Alice" sip:a@h'], { error: 'quoted display name without <URI>' }],
    ['parseNameAddr', ['Al@ice <sip:a@h>'], { error: 'display name must be tokens or a quoted string' }],
    ['parseNameAddr', ['<sip:a@h'], { error: 'unterminated <URI>' }],
    ['parseNameAddr', ['<>'], { error: 'whitespace inside <URI>' }],
    ['parseNameAddr', ['< sip:a@h>'], { error: 'whitespace inside <URI>' }],
    ['parseNameAddr', ['sip:a@h?x=1'], { error: 'addr-spec with whitespace, "," or "?" must be in <>' }],
    ['parseNameAddr', ['sip:a@h,b'], { error: 'addr-spec with whitespace, "," or "?" must be in <>' }],
    ['parseNameAddr', ['<x>'], { error: 'name-addr: not a URI' }],
    ['parseNameAddr', ['"A"<sip:a@h>'], { ok: { uri: 'sip:a@h', params: {}, name: '"A"' } }],
    ['parseNameAddr', ['<sip:a@h>;=x'], { error: 'empty or malformed parameter name' }],
    ['parseNameAddr', ['<urn:service:sos>'], { ok: { uri: 'urn:service:sos', params: {} } }],
    [
      'parseNameAddrList',
      ['<sip:a@h>, "B, b" <sip:b@h>;q=0.5'],
      {
        ok: [
          { uri: 'sip:a@h', params: {} },
          { uri: 'sip:b@h', params: { q: '0.5' }, name: '"B, b"' },
        ],
      },
    ],
    ['parseCSeq', ['1 INVITE'], { ok: { seq: 1, method: 'INVITE' } }],
    ['parseCSeq', [' 2147483647  BYE '], { ok: { seq: 2147483647, method: 'BYE' } }],
    ['parseCSeq', ['2147483648 BYE'], { error: 'CSeq out of range' }],
    ['parseCSeq', ['00000000001 BYE'], { error: 'CSeq out of range' }],
    ['parseCSeq', ['0000000001 BYE'], { ok: { seq: 1, method: 'BYE' } }],
    ['parseCSeq', ['x BYE'], { error: 'malformed CSeq' }],
    ['parseCSeq', ['1'], { error: 'malformed CSeq' }],
    ['parseCSeq', ['1 IN(VITE'], { error: 'malformed CSeq' }],
    ['parseCSeq', ['1 INVITE x'], { error: 'malformed CSeq' }],
    ['parseBoundedInt', ['70', 255, 'Max-Forwards'], { ok: 70 }],
    ['parseBoundedInt', [' 0 ', 255, 'Max-Forwards'], { ok: 0 }],
    ['parseBoundedInt', ['256', 255, 'Max-Forwards'], { error: 'Max-Forwards out of range' }],
    ['parseBoundedInt', ['-1', 255, 'Max-Forwards'], { error: 'Max-Forwards out of range' }],
    ['parseBoundedInt', ['12345678901', 99999999999, 'Expires'], { error: 'Expires out of range' }],
    ['parseBoundedInt', ['1.5', 9, 'Expires'], { error: 'Expires out of range' }],
    ['parseBoundedInt', ['', 9, 'Expires'], { error: 'Expires out of range' }],
    ['parseAuthList', ['Digest realm="r", nonce="n,1", algorithm=MD5'], { ok: [{ scheme: 'Digest', realm: '"r"', nonce: '"n,1"', algorithm: 'MD5' }] }],
    [
      'parseAuthList',
      ['Digest realm="a", Digest realm="b"'],
      {
        ok: [
          { scheme: 'Digest', realm: '"a"' },
          { scheme: 'Digest', realm: '"b"' },
        ],
      },
    ],
    ['parseAuthList', ['Digest realm="a",, qop="auth"'], { ok: [{ scheme: 'Digest', realm: '"a"', qop: '"auth"' }] }],
    ['parseAuthList', ['realm="a"'], { error: 'authentication parameter before any scheme' }],
    ['parseAuthList', ['Digest realm'], { error: 'authentication parameter before any scheme' }],
    ['parseAuthList', ['Digest =x'], { error: 'authentication parameter before any scheme' }],
    ['parseAuthList', ['Digest  realm = "r" '], { ok: [{ scheme: 'Digest', realm: '"r"' }] }],
    ['parseAuthList', [''], { ok: [] }],
    ['parseAuthList', ['Basic abc'], { error: 'authentication parameter before any scheme' }],
    ['stringifyAuth', [{ scheme: 'Basic' }], { ok: 'Basic ' }],
  ])('%s(%j) → %j', (fn, args, outcome) => {
    if ('error' in outcome) expect(() => call(fn, args)).toThrow(new SipSyntaxError(outcome.error));
    else expect(call(fn, args)).toStrictEqual(outcome.ok); // no key set to undefined
  });

  it('leaves out undefined parameters and a non-finite port when writing', () => {
    expect(hv.stringifyParams({ a: '1', b: null, c: undefined, d: 5 })).toBe(';a=1;b;d=5');
    expect(hv.stringifyVia({ protocol: 'tcp', host: '[::1]', port: NaN, params: {} })).toBe('SIP/2.0/TCP [::1]');
    expect(hv.stringifyAuth({ scheme: 'Digest', realm: '"r"', nonce: '"n"', opaque: undefined })).toBe('Digest realm="r", nonce="n"');
  });

  it('writes a name-addr with its display name only when there is one', () => {
    expect(hv.stringifyNameAddr({ name: '"A"', uri: 'sip:a@h', params: { tag: 't' } }, String)).toBe('"A" <sip:a@h>;tag=t');
    expect(hv.stringifyNameAddr({ name: '', uri: 'sip:a@h', params: {} }, String)).toBe('<sip:a@h>');
  });
});
