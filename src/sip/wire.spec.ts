import type { SipMessage } from 'sip';
import { decodeMessage, encodeMessage, makeStreamFramer } from './wire';

function request(content?: string): SipMessage {
  return {
    method: 'MESSAGE',
    uri: 'sip:+1@ims.lab',
    headers: {
      via: [{ version: '2.0', protocol: 'UDP', host: '127.0.0.1', port: 5070, params: { branch: 'z9hG4bKabc' } }],
      to: { uri: 'sip:+1@ims.lab', params: {} },
      from: { name: '"Jürgen"', uri: 'sip:+2@ims.lab', params: { tag: 't1' } },
      'call-id': 'c1',
      cseq: { seq: 1, method: 'MESSAGE' },
      'content-type': 'text/plain;charset=utf-8',
    },
    content,
  };
}

describe('wire encoding (UTF-8 vs the package latin1 strings)', () => {
  it('announces the body length in bytes and writes UTF-8', () => {
    const body = 'Marienplatz, München €';
    const buf = encodeMessage(request(body));
    const text = buf.toString('utf8');
    expect(text).toContain(`Content-Length: ${Buffer.byteLength(body, 'utf8')}\r\n`);
    expect(Buffer.byteLength(body, 'utf8')).toBeGreaterThan(body.length);
    expect(text.endsWith(`\r\n\r\n${body}`)).toBe(true);
    expect(text).toContain('From: "Jürgen" <sip:+2@ims.lab>;tag=t1');
  });

  it('does not mutate the message it encodes', () => {
    const m = request('x');
    encodeMessage(m);
    expect(m.headers['content-length']).toBeUndefined();
  });

  it('decodes bodies and headers back to UTF-8', () => {
    const m = decodeMessage(encodeMessage(request('München')));
    expect(m?.content).toBe('München');
    expect(m?.headers.from?.name).toBe('"Jürgen"');
    expect(m?.headers.cseq).toEqual({ seq: 1, method: 'MESSAGE' });
  });

  it('cuts the body at Content-Length bytes', () => {
    const raw = Buffer.concat([encodeMessage(request('ü')), Buffer.from('garbage')]);
    expect(decodeMessage(raw)?.content).toBe('ü');
  });

  it('returns undefined for garbage and for messages missing mandatory headers', () => {
    expect(decodeMessage(Buffer.from('hello'))).toBeUndefined();
    expect(decodeMessage(Buffer.from('\r\n\r\n'))).toBeUndefined();
    expect(decodeMessage(Buffer.from('INVITE sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\n\r\n'))).toBeUndefined();
    expect(decodeMessage(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCSeq: abc\r\n\r\n'))).toBeUndefined();
  });

  it('frames a TCP stream: split and coalesced messages, keep-alive CRLFs', () => {
    const got: string[] = [];
    const feed = makeStreamFramer((raw) => got.push(decodeMessage(raw)?.content ?? ''));
    const a = encodeMessage(request('Grüße'));
    const b = encodeMessage(request('zwei'));
    const all = Buffer.concat([Buffer.from('\r\n\r\n'), a, b]);
    expect(feed(all.subarray(0, 10))).toBe('ok');
    expect(feed(all.subarray(10, a.length + 7))).toBe('ok');
    expect(got).toEqual(['Grüße']);
    expect(feed(all.subarray(a.length + 7))).toBe('ok');
    expect(got).toEqual(['Grüße', 'zwei']);
  });

  it('refuses an oversized stream message', () => {
    const feed = makeStreamFramer(() => undefined);
    expect(feed(Buffer.from('INVITE sip:a@b SIP/2.0\r\nContent-Length: 99999999\r\n\r\n'))).toBe('too-large');
  });

  it('never frames a second request out of a duplicate Content-Length: hands the head on and stops', () => {
    const got: Buffer[] = [];
    const feed = makeStreamFramer((raw) => got.push(raw));
    const smuggled = 'OPTIONS sip:b@h SIP/2.0\r\nContent-Length: 0\r\n\r\n';
    const text = `INVITE sip:a@b SIP/2.0\r\nContent-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`;
    expect(feed(Buffer.from(text))).toBe('bad-framing');
    expect(got.map((b) => b.toString().split('\r\n')[0])).toEqual(['INVITE sip:a@b SIP/2.0']);
    expect(feed(Buffer.from(smuggled))).toBe('bad-framing');
    expect(got).toHaveLength(1);
  });

  it('stops at a stream message without Content-Length (RFC 3261 §18.3)', () => {
    const got: Buffer[] = [];
    const feed = makeStreamFramer((raw) => got.push(raw));
    expect(feed(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n'))).toBe('bad-framing');
    expect(got).toHaveLength(1);
  });

  it('enforces a configured maximum message size on streams', () => {
    const feed = makeStreamFramer(() => undefined, 100);
    expect(feed(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 80\r\n\r\n'))).toBe('too-large');
  });
});
