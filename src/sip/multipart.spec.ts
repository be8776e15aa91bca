import { buildMultipartBody, MultipartError } from './multipart';

const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n';
const PIDF = '<?xml version="1.0" encoding="UTF-8"?>\n<presence/>';

describe('buildMultipartBody', () => {
  it('builds an RFC 2046 multipart/mixed body with CRLF and the given boundary', () => {
    const out = buildMultipartBody(
      [
        { contentType: 'application/sdp', body: SDP },
        { contentType: 'application/pidf+xml', contentId: 'loc1@gw.example.com', body: PIDF },
      ],
      'unique-boundary-1',
    );
    expect(out.contentType).toBe('multipart/mixed;boundary=unique-boundary-1');
    expect(out.body).toBe(
      '--unique-boundary-1\r\nContent-Type: application/sdp\r\n\r\n' +
        SDP +
        '\r\n--unique-boundary-1\r\nContent-Type: application/pidf+xml\r\nContent-ID: <loc1@gw.example.com>\r\n\r\n' +
        PIDF +
        '\r\n--unique-boundary-1--\r\n',
    );
  });

  it('keeps an already bracketed Content-ID', () => {
    expect(buildMultipartBody([{ contentType: 'text/plain', contentId: '<a@b>', body: 'x' }], 'b').body).toContain('Content-ID: <a@b>\r\n');
  });

  it('generates a random boundary that does not occur in the parts', () => {
    const a = buildMultipartBody([{ contentType: 'text/plain', body: 'x' }]);
    const b = buildMultipartBody([{ contentType: 'text/plain', body: 'x' }]);
    const boundary = /boundary=(.+)$/.exec(a.contentType)?.[1] ?? '';
    expect(boundary).toMatch(/^boundary-[0-9a-f]{24}$/);
    expect(a.contentType).not.toBe(b.contentType);
    expect(a.body.startsWith(`--${boundary}\r\n`)).toBe(true);
    expect(a.body.endsWith(`\r\n--${boundary}--\r\n`)).toBe(true);
  });

  it('quotes a boundary that is not a token (RFC 2045 §5.1)', () => {
    expect(buildMultipartBody([{ contentType: 'text/plain', body: 'x' }], 'a:b c').contentType).toBe('multipart/mixed;boundary="a:b c"');
  });

  it('rejects a boundary that occurs in a part', () => {
    expect(() => buildMultipartBody([{ contentType: 'text/plain', body: 'x\r\n--b\r\n' }], 'b')).toThrow(MultipartError);
  });

  it('rejects an invalid boundary (RFC 2046 §5.1.1)', () => {
    expect(() => buildMultipartBody([{ contentType: 'text/plain', body: 'x' }], '')).toThrow(MultipartError);
    expect(() => buildMultipartBody([{ contentType: 'text/plain', body: 'x' }], 'x'.repeat(71))).toThrow(MultipartError);
    expect(() => buildMultipartBody([{ contentType: 'text/plain', body: 'x' }], 'ends-in-space ')).toThrow(MultipartError);
  });

  it('rejects header injection in part headers', () => {
    expect(() => buildMultipartBody([{ contentType: 'text/plain\r\nX-Evil: 1', body: 'x' }], 'b')).toThrow(MultipartError);
    expect(() => buildMultipartBody([{ contentType: 'text/plain', contentId: 'a\nb', body: 'x' }], 'b')).toThrow(MultipartError);
  });

  it('rejects an empty part list', () => {
    expect(() => buildMultipartBody([])).toThrow(MultipartError);
  });
});
