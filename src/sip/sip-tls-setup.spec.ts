import { contactTransport, sipProtocolOf, transportTls } from './sip-tls-setup';
import type { SipTlsMaterial } from '../config/sip-tls';
import { Secret } from '../config/secret';

describe('SIP over TLS wiring', () => {
  it('maps SIP_TRANSPORT to the Via protocol token (RFC 3261 §20.42)', () => {
    expect(['udp', 'tcp', 'tls'].map((t) => sipProtocolOf(t as 'udp' | 'tcp' | 'tls'))).toEqual(['UDP', 'TCP', 'TLS']);
  });

  it('writes Contact as sip:…;transport=tls, sips: behind a sips: proxy (RFC 3261 §8.1.1.8), unchanged for udp and tcp', () => {
    expect(contactTransport('tls', 'sip:10.0.0.10:5061;transport=tls', 'r1@192.0.2.5:5071')).toBe('sip:r1@192.0.2.5:5071;transport=tls');
    expect(contactTransport('tls', 'SIPS:pcscf.example.net', 'r1@192.0.2.5:5071')).toBe('sips:r1@192.0.2.5:5071');
    expect(contactTransport('tcp', 'sip:10.0.0.10;transport=tcp', 'r1@192.0.2.5:5071')).toBe('sip:r1@192.0.2.5:5071;transport=tcp');
    expect(contactTransport('udp', 'sip:10.0.0.10', 'r1@192.0.2.5:5071')).toBe('sip:r1@192.0.2.5:5071');
  });

  it("expects the proxy's configured name on connections to any of its targets, the address elsewhere (RFC 5922 §4)", () => {
    const material: SipTlsMaterial = { server: { cert: '', key: new Secret('') }, ca: undefined, client: undefined };
    const targets = [{ address: '10.0.0.10', port: 5061 }];
    const t = transportTls(material, 'pcscf.example.net', () => targets);
    expect(t.expectedName({ address: '10.0.0.10', port: 5061 })).toBe('pcscf.example.net');
    expect(t.expectedName({ address: '10.0.0.10', port: 5062 })).toBe('10.0.0.10');
    expect(t.expectedName({ address: '192.0.2.7', port: 5061 })).toBe('192.0.2.7');
    // the targets are read at each connection (RFC 3263: the name resolves after construction, to several addresses)
    targets.push({ address: '10.0.0.11', port: 5061 });
    expect(t.expectedName({ address: '10.0.0.11', port: 5061 })).toBe('pcscf.example.net');
    expect(t.expectedName({ address: '10.0.0.10', port: 5061 })).toBe('pcscf.example.net');
  });

  it('asks names for SNI but never IP literals (RFC 6066 §3), and always verifies', () => {
    const material: SipTlsMaterial = { server: { cert: 'C', key: new Secret('K') }, ca: 'CA', client: { cert: 'CC', key: new Secret('CK') } };
    const ctx = transportTls(material, 'x', () => []).context;
    const byName = ctx.connect('10.0.0.10', 5061, 'pcscf.example.net');
    expect(byName).toMatchObject({ host: '10.0.0.10', port: 5061, servername: 'pcscf.example.net', ca: 'CA', cert: 'CC', key: 'CK', rejectUnauthorized: true });
    expect(ctx.connect('10.0.0.10', 5061, '10.0.0.10')).not.toHaveProperty('servername');
    expect(ctx.server).toMatchObject({ cert: 'C', key: 'K', ca: 'CA', requestCert: true, rejectUnauthorized: false });
  });
});
