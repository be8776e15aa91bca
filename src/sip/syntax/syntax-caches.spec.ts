import type { SipMessage } from 'sip';
import { CANONICAL_MAX, canonicalNamesKept, decodeMessage } from './message-codec';
import { encodeMessage, PRETTY_CACHE_MAX, prettyNamesKept } from './message-writer';
import { assertAnyUri, VALID_URIS_MAX, validUrisKept } from './sip-uri';

/**
 * The syntax layer remembers what peers send often (header names, URIs) to skip work; all of it
 * comes from peers, so a peer sending a new name or URI in every message must not grow memory.
 */
describe('the SIP syntax caches stay bounded whatever peers send', () => {
  const HEAD = ['Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1', 'From: <sip:a@h>;tag=f', 'To: <sip:b@h>', 'Call-ID: c1', 'CSeq: 1 OPTIONS'];

  it('decodes 3 000 distinct extension header names, remembering at most CANONICAL_MAX, each still read', () => {
    for (let i = 0; i < 3000; i++) {
      const d = decodeMessage(Buffer.from(['OPTIONS sip:h SIP/2.0', ...HEAD, `X-Probe-${i}: v${i}`, '', ''].join('\r\n')), { maxBodyBytes: 1000 });
      if (d.kind !== 'message') throw new Error(`not a message: ${JSON.stringify(d)}`);
      expect(d.message.headers[`x-probe-${i}`]).toBe(`v${i}`);
    }
    expect(canonicalNamesKept()).toBeLessThanOrEqual(CANONICAL_MAX);
    expect(canonicalNamesKept()).toBeGreaterThan(0);
  });

  it('writes 3 000 distinct header names, remembering at most PRETTY_CACHE_MAX, each still capitalised', () => {
    for (let i = 0; i < 3000; i++) {
      const m: SipMessage = { method: 'OPTIONS', uri: 'sip:h', version: '2.0', headers: { 'call-id': 'c1', [`x-probe-${i}`]: 'v' } };
      expect(encodeMessage(m).toString('utf8')).toContain(`X-Probe-${i}: v\r\n`);
    }
    expect(prettyNamesKept()).toBeLessThanOrEqual(PRETTY_CACHE_MAX);
  });

  it('validates 5 000 distinct URIs, remembering at most VALID_URIS_MAX, and never a refused one or a long one', () => {
    for (let i = 0; i < 5000; i++) assertAnyUri(`sip:user${i}@example.com`, 'Contact');
    expect(validUrisKept()).toBeLessThanOrEqual(VALID_URIS_MAX);
    expect(validUrisKept()).toBeGreaterThan(0);
    // emptied when full, then refilled: a refused URI is never remembered, so it is refused again
    expect(() => assertAnyUri('sip:bad uri@example.com', 'Contact')).toThrow();
    expect(() => assertAnyUri('sip:bad uri@example.com', 'Contact')).toThrow();
    const before = validUrisKept();
    assertAnyUri(`sip:${'a'.repeat(300)}@example.com`, 'Contact');
    expect(validUrisKept()).toBe(before);
  });
});
