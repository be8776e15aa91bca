import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSip, encodeMessage } from '../wire';
import { routeUris } from '../dialog';

/** RFC 4475 §3 and RFC 5118 §4 messages (test/fixtures/sip-torture/README.md explains the format). */
const DIR = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'sip-torture');

function loadFixture(path: string): Buffer {
  let text = readFileSync(path, 'utf8').replace(/<allOneLine>\n([\s\S]*?)\n<\/allOneLine>/g, (_, body: string) => body.replace(/\n/g, ''));
  text = text.replace(/\n/g, '\r\n');
  const sep = text.indexOf('\r\n\r\n');
  const body = sep < 0 ? '' : text.slice(sep + 4);
  const bytes = (s: string): Buffer =>
    Buffer.concat(s.split(/(<hex>[0-9A-Fa-f]*<\/hex>)/).map((part) => (part.startsWith('<hex>') ? Buffer.from(part.slice(5, -6), 'hex') : Buffer.from(part, 'utf8'))));
  return bytes(text.replace('{{CL}}', String(bytes(body).length)));
}

const files = (sub: string): string[] => readdirSync(join(DIR, sub)).filter((f) => f.endsWith('.sip'));

describe('RFC 4475 / RFC 5118 valid messages', () => {
  it.each(files('valid'))('%s parses and re-serialises without losing a header value', (file) => {
    const first = decodeSip(loadFixture(join(DIR, 'valid', file)));
    if (first.kind !== 'message') throw new Error(`${file}: ${first.kind} ${'reason' in first ? first.reason : ''}`);
    const again = decodeSip(encodeMessage(first.message));
    if (again.kind !== 'message') throw new Error(`${file} re-serialised: ${again.kind} ${'reason' in again ? again.reason : ''}`);
    expect(again.message).toEqual(first.message);
  });
});

describe('RFC 4475 / RFC 5118 invalid messages', () => {
  it.each(files('invalid'))('%s is refused as its name says, never a crash', (file) => {
    const expected = file.split('.').slice(-2, -1)[0];
    const d = decodeSip(loadFixture(join(DIR, 'invalid', file)));
    if (expected === 'discard') {
      expect(d.kind).toBe('discard');
      return;
    }
    if (d.kind !== 'bad-request') throw new Error(`${file}: ${d.kind}`);
    expect(String(d.status)).toBe(expected);
    const text = d.response.toString('utf8');
    expect(text.startsWith(`SIP/2.0 ${expected} `)).toBe(true);
    expect(text).toMatch(/\r\nVia: /);
    expect(text.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  });

  it('answers with the Call-ID and CSeq copied, so the client can match the 400 (mismatch01)', () => {
    const d = decodeSip(loadFixture(join(DIR, 'invalid', 'mismatch01.400.sip')));
    if (d.kind !== 'bad-request') throw new Error(d.kind);
    const rs = decodeSip(d.response);
    if (rs.kind !== 'message') throw new Error(rs.kind);
    expect(rs.message.status).toBe(400);
    expect(rs.message.headers['call-id']).toBe('mismatch01.dj0234sxdfl3');
    expect(rs.message.headers.cseq).toEqual({ seq: 8, method: 'INVITE' });
  });

  it('names the problem in the reason phrase (CSeq out of range, RFC 3261 §8.1.1.5)', () => {
    const d = decodeSip(loadFixture(join(DIR, 'invalid', 'cseq-out-of-range.400.sip')));
    expect(d.kind === 'bad-request' && d.response.toString().split('\r\n')[0]).toBe('SIP/2.0 400 Bad Request (CSeq out of range)');
  });
});

describe('IPv6 (RFC 5118) details the sip package lost', () => {
  const message = (file: string) => {
    const d = decodeSip(loadFixture(join(DIR, 'valid', file)));
    if (d.kind !== 'message') throw new Error(d.kind);
    return d.message;
  };

  it('keeps an IPv6 Via sent-by with its port and parameters', () => {
    const via = message('rfc5118-received-bare-ipv6.sip').headers.via?.[0];
    expect(via).toEqual({ version: '2.0', protocol: 'UDP', host: '[2001:db8::9:1]', port: 13333, params: { received: '2001:db8::9:255', rport: '13334', branch: 'z9hG4bKas3-111' } });
  });

  it('keeps every Via of a multi-IP header in order', () => {
    const vias = message('rfc5118-mult-ip-in-header.sip').headers.via ?? [];
    expect(vias.map((v) => [v.host, v.params.received])).toEqual([
      ['[2001:db8::9:1]', '[2001:db8::9:255]'],
      ['192.0.2.1', '192.0.2.198'],
      ['[2001:db8::9:255]', '[2001:db8::9:1]'],
    ]);
  });

  it('turns IPv6 Record-Route entries into a route set (was a 500 for every such INVITE)', () => {
    const m = message('rfc5118-record-route-ipv6.sip');
    expect(routeUris(m.headers['record-route'])).toEqual(['sip:[2001:db8::1]:5060;lr;ftag=81x2', 'sip:[2001:db8::2];lr', 'sip:proxy.example.com;lr']);
    expect(m.uri).toBe('sip:reg1@[2001:db8::20]:5070;transport=udp');
  });
});
