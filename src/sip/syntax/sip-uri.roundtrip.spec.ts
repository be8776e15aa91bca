import { parseSipUri, stringifySipUri } from './sip-uri';

/** RFC 3261 §19.1.1: userinfo, port, parameters and headers written back as parsed, row by row. */

describe('stringifySipUri ∘ parseSipUri', () => {
  const rows = ['sip:alice@example.com', 'sip:alice:secret@example.com', 'sip:example.com:5060', 'sips:bob@[2001:db8::1]:5061;transport=tcp;lr', 'sip:carol@h?subject=x&priority=urgent'];
  it.each(rows)('%s is written back unchanged', (text) => {
    const uri = parseSipUri(text);
    expect(uri).toBeDefined();
    expect(stringifySipUri(uri!)).toBe(text);
  });

  it('a user without password is written as user@ (no colon, no "undefined")', () => {
    expect(stringifySipUri({ schema: 'sip', user: 'alice', host: 'h', params: {}, headers: {} })).toBe('sip:alice@h');
  });
});
