import { readFileSync } from 'fs';
import { join } from 'path';
import { redactSdp, redactSecrets } from './sdp-redaction';

const fixture = (name: string): string => readFileSync(join(__dirname, '__fixtures__', name), 'utf8');

describe('redaction', () => {
  describe('redactSdp', () => {
    it('redacts SDES key material and the ICE password, keeping the rest', () => {
      const original = fixture('camara-sdes.sdp');
      const out = redactSdp(original);
      expect(out).not.toContain('Xm3YciqVIWFNSwy19e9MvfZ2YOdAZil7oT/tHjdf');
      expect(out).not.toContain('D4sF5Pv9vx9ggaqxBlHbAFMx');
      expect(out).toContain('\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[redacted]\r\n');
      expect(out).toContain('\r\na=ice-pwd:[redacted]\r\n');
      expect(out).toContain('\r\na=ice-ufrag:4eKp\r\n');
      expect(out.split('\r\n').length).toBe(original.split('\r\n').length);
    });

    it('keeps lifetime, MKI and session parameters readable (RFC 4568 §6.1)', () => {
      const line = 'a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32;inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0|2^20|2:32 KDR=1 UNENCRYPTED_SRTCP';
      expect(redactSdp(line)).toBe('a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:[redacted]|2^20|1:32;inline:[redacted]|2^20|2:32 KDR=1 UNENCRYPTED_SRTCP');
    });

    it('redacts MIKEY key management (RFC 4567) and k= keys', () => {
      expect(redactSdp('a=key-mgmt:mikey AQAFgM0XflABAAAAAAAAAAAAAAsAyO\r\n')).toBe('a=key-mgmt:mikey [redacted]\r\n');
      expect(redactSdp('v=0\r\nk=clear:s3cret\r\nk=prompt\r\n')).toBe('v=0\r\nk=clear:[redacted]\r\nk=prompt\r\n');
    });

    it('leaves an SDP without secrets untouched', () => {
      const seed = fixture('camara-seed.sdp');
      expect(redactSdp(seed)).toBe(seed);
    });
  });

  describe('redactSecrets', () => {
    it('redacts inside a full SIP message', () => {
      const body = fixture('chrome-audio.sdp').replace(/\n/g, '\r\n');
      const msg = `INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: a84b4c76e66710\r\nContent-Type: application/sdp\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      const out = redactSecrets(msg);
      expect(out).not.toContain('Wb0n7Hk9yR2dS5Lq1Zc8VfTe');
      expect(out).toContain('a=ice-pwd:[redacted]\r\n');
      expect(out).toContain('Call-ID: a84b4c76e66710\r\n');
      expect(out).toContain('a=fingerprint:sha-256 6B:8B');
    });

    it('redacts inside multipart bodies', () => {
      const msg = '--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\na=ice-pwd:abc+/123\r\n--b--\r\n';
      expect(redactSecrets(msg)).toBe('--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\na=ice-pwd:[redacted]\r\n--b--\r\n');
    });

    it('redacts JSON-escaped SDPs in log lines', () => {
      const log = JSON.stringify({ sdp: fixture('camara-sdes.sdp'), msg: 'sent' });
      const out = redactSecrets(log);
      expect(out).not.toContain('D4sF5Pv9vx9ggaqxBlHbAFMx');
      expect(out).not.toContain('Xm3YciqVIWFNSwy19e9MvfZ2YOdAZil7oT');
      expect(JSON.parse(out)).toEqual({ sdp: expect.stringContaining('a=ice-pwd:[redacted]\r\n'), msg: 'sent' });
    });

    it('redacts sdp-transform objects logged as JSON', () => {
      const out = redactSecrets(JSON.stringify({ iceUfrag: 'x', icePwd: 'secretpwd', crypto: [{ config: 'inline:abcd|2^20' }] }));
      expect(JSON.parse(out)).toEqual({ iceUfrag: 'x', icePwd: '[redacted]', crypto: [{ config: 'inline:[redacted]|2^20' }] });
    });
  });

  describe('case and spacing (issue 13)', () => {
    it.each([
      ['upper-case INLINE', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 INLINE:Xm3YciqVIWFNSwy19e9MvfZ2YOdAZil7oT/tHjdf|2^20', 'Xm3YciqVIWFNSwy19e9MvfZ2YOdAZil7oT/tHjdf'],
      ['a space after inline:', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline: Xm3YciqVIWFNSwy19e9MvfZ2', 'Xm3YciqVIWFNSwy19e9MvfZ2'],
      ['a space after a=ice-pwd:', 'a=ice-pwd: D4sF5Pv9vx9ggaqxBlHbAFMx', 'D4sF5Pv9vx9ggaqxBlHbAFMx'],
      ['upper-case A=ICE-PWD', 'A=ICE-PWD:D4sF5Pv9vx9ggaqxBlHbAFMx', 'D4sF5Pv9vx9ggaqxBlHbAFMx'],
      ['upper-case key-mgmt', 'a=KEY-MGMT: mikey AQAFgM0XflABAAAAAAAAAAAAAAsAyO', 'AQAFgM0XflABAAAAAAAAAAAAAAsAyO'],
      ['K=CLEAR', 'v=0\r\nK=CLEAR:s3cret\r\n', 's3cret'],
    ])('redacts %s', (_what, text, secret) => {
      const out = redactSecrets(text);
      expect(out).not.toContain(secret);
      expect(out).toContain('[redacted]');
    });
  });

  describe('locations (personal data, readable only at trace)', () => {
    const pidf =
      '--b1\r\nContent-Type: application/pidf+xml\r\n\r\n<presence xmlns="urn:ietf:params:xml:ns:pidf"><tuple id="t"><status><gp:geopriv><gp:location-info>' +
      '<gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>40.7128 -74.0060</gml:pos><gs:radius uom="urn:ogc:def:uom:EPSG::9001">15</gs:radius></gs:Circle>' +
      '</gp:location-info></gp:geopriv></status></tuple></presence>\r\n--b1--';
    it('redacts the PIDF-LO location-info and its coordinates', () => {
      const out = redactSecrets(pidf);
      expect(out).not.toContain('40.7128');
      expect(out).not.toContain('-74.0060');
      expect(out).toContain('<gp:location-info>[redacted]</gp:location-info>');
    });
    it('redacts coordinates in JSON, escaped or not', () => {
      const out = redactSecrets('{"locationDetails":{"latitude":40.7128,"longitude":-74.006},"x":"{\\"lat\\":51.5}"}');
      expect(out).not.toMatch(/40\.7128|74\.006|51\.5/);
    });
    it('keeps them with keepLocation (trace)', () => {
      expect(redactSecrets(pidf, { keepLocation: true })).toContain('40.7128 -74.0060');
    });
  });
});
