import { canonicalAddress, parseTrustedPeers, TrustedPeers } from './trusted-peers';

describe('trust domain (RFC 3325)', () => {
  it('parses host, host:port, bare IPv6 and [IPv6]:port entries', () => {
    expect(parseTrustedPeers('pcscf.example.net, 10.0.0.5:5060,[2001:db8::5]:5061, 2001:db8::6')).toEqual([
      { host: 'pcscf.example.net' },
      { host: '10.0.0.5', port: 5060 },
      { host: '2001:db8::5', port: 5061 },
      { host: '2001:db8::6' },
    ]);
    expect(() => parseTrustedPeers('[2001:db8::zz]:5060')).toThrow(/not host or host:port/);
    expect(() => parseTrustedPeers('a:99999')).toThrow(/not host or host:port/);
  });

  it('compares addresses in one canonical form (IPv6 compression, IPv4-mapped)', () => {
    expect(canonicalAddress('[2001:DB8:0:0::1]')).toBe('2001:db8::1');
    expect(canonicalAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalAddress('::FFFF:7f00:1')).toBe('127.0.0.1');
  });

  it('on UDP matches address and port; a host entry matches any port', async () => {
    const peers = await TrustedPeers.resolve(parseTrustedPeers('10.0.0.5:5060,2001:db8::6'));
    expect(peers.isTrusted({ protocol: 'UDP', address: '10.0.0.5', port: 5060 })).toBe(true);
    expect(peers.isTrusted({ protocol: 'UDP', address: '10.0.0.5', port: 5070 })).toBe(false);
    expect(peers.isTrusted({ protocol: 'UDP', address: '2001:db8:0::6', port: 1234 })).toBe(true);
    expect(peers.isTrusted({ protocol: 'UDP', address: '10.0.0.6', port: 5060 })).toBe(false);
  });

  it('on TCP matches the address only (peers connect from ephemeral ports)', () => {
    const peers = TrustedPeers.of([{ address: '127.0.0.1', port: 5060 }]);
    expect(peers.isTrusted({ protocol: 'TCP', address: '::ffff:127.0.0.1', port: 40122 })).toBe(true);
    expect(peers.isTrusted({ protocol: 'UDP', address: '127.0.0.1', port: 40122 })).toBe(false);
  });
});
