import { redactSecrets } from './redaction';

describe('redactSecrets (SIP messages)', () => {
  it('removes digest responses, SDES keys and ICE passwords', () => {
    const msg = [
      'INVITE sip:x@ims.lab SIP/2.0',
      'Proxy-Authorization: Digest username="+1708",realm="ims.lab",nonce="n",response="0123456789abcdef"',
      'authorization: Digest response="feedface"',
      'Content-Type: application/sdp',
      '',
      'v=0',
      'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:32',
      'a=ice-pwd:asd88fgpdd777uzjYhagZg',
      'a=ice-ufrag:8hhY',
    ].join('\r\n');
    const out = redactSecrets(msg);
    expect(out).not.toMatch(/0123456789abcdef|feedface|WVNfX19zZW1j|asd88fgpdd777uzjYhagZg/);
    expect(out).toContain('Proxy-Authorization: [redacted]');
    expect(out).toContain('a=ice-ufrag:8hhY');
    expect(out).toContain('INVITE sip:x@ims.lab SIP/2.0');
  });
});
