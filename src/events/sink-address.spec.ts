import { isForbiddenAddress, SinkPolicy, SinkRejectedError } from './sink-address';
import { classifyStatus, parseRetryAfter } from './sink-client';

describe(isForbiddenAddress.name, () => {
  it.each([
    ['loopback v4', '127.0.0.1'],
    ['loopback v6', '::1'],
    ['RFC 1918 10/8', '10.1.2.3'],
    ['RFC 1918 172.16/12', '172.31.255.1'],
    ['RFC 1918 192.168/16', '192.168.1.1'],
    ['CGNAT 100.64/10', '100.100.100.200'],
    ['ULA fc00::/7', 'fd00:ec2::254'],
    ['link-local v4 / cloud metadata', '169.254.169.254'],
    ['link-local v6', 'fe80::1'],
    ['multicast v4', '239.1.1.1'],
    ['multicast v6', 'ff02::1'],
    ['unspecified v4', '0.0.0.0'],
    ['unspecified v6', '::'],
    ['broadcast', '255.255.255.255'],
    ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
    ['IPv4-mapped private, hex form', '::ffff:a00:1'],
    ['NAT64 to metadata', '64:ff9b::169.254.169.254'],
    ['IPv4-compatible loopback', '[::127.0.0.1]'],
    ['IPv4-compatible private, hex form', '::a00:1'],
    ['6to4 of loopback', '[2002:7f00:1::]'],
    ['6to4 of RFC 1918', '2002:c0a8:101::1'],
    ['NAT64 of loopback, hex form', '64:ff9b::7f00:1'],
    ['NAT64 local-use prefix (RFC 8215)', '64:ff9b:1::a00:1'],
    ['Teredo with a private server', '2001:0:a00:1::1'],
    ['Teredo with an obfuscated loopback client', '2001:0:808:808::80ff:fffe'],
    ['RFC 6145 translated loopback', '::ffff:0:7f00:1'],
    ['ISATAP interface id of loopback', '2001:db9::5efe:7f00:1'],
    ['documentation v6', '2001:db8::1'],
    ['documentation v4', '203.0.113.5'],
    ['not an address', 'example.com'],
  ])('refuses %s (%s)', (_, ip) => {
    expect(isForbiddenAddress(ip)).toBe(true);
  });

  it.each(['8.8.8.8', '100.63.255.255', '172.32.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8', '2002:808:808::1', '64:ff9b::808:808', '2001:0:808:808::f7f7:f7f7'])('allows public %s', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(false);
  });
});

describe(SinkPolicy.name, () => {
  const resolving =
    (...addresses: string[]) =>
    async () =>
      addresses.map((address) => ({ address, family: address.includes(':') ? (6 as const) : (4 as const) }));

  it('accepts an https sink whose every address is public', async () => {
    await expect(new SinkPolicy(false, resolving('93.184.216.34', '2606:2800:220:1::1')).check('https://sink.example.com/x')).resolves.toBeInstanceOf(URL);
  });

  it.each([
    ['plain http', 'http://sink.example.com/'],
    ['not a URL', 'sink'],
    ['user info', 'https://u:p@sink.example.com/'],
    ['literal loopback', 'https://127.0.0.1/'],
    ['literal private v6', 'https://[fd00::1]/'],
  ])('refuses %s', async (_, sink) => {
    await expect(new SinkPolicy(false, resolving('93.184.216.34')).check(sink)).rejects.toBeInstanceOf(SinkRejectedError);
  });

  it('refuses a name when any of its addresses is private (checked on resolved addresses)', async () => {
    await expect(new SinkPolicy(false, resolving('93.184.216.34', '10.0.0.5')).check('https://sink.example.com/')).rejects.toThrow(/non-public/);
  });

  it('refuses an unresolvable name, as transient', async () => {
    const p = new SinkPolicy(false, async () => {
      throw new Error('ENOTFOUND');
    });
    await expect(p.check('https://nowhere.example/')).rejects.toMatchObject({ transient: true });
  });

  it('allowPrivateSinks lifts both rules', async () => {
    await expect(new SinkPolicy(true, resolving('127.0.0.1')).check('http://localhost:8080/')).resolves.toBeInstanceOf(URL);
  });
});

describe('sink answers', () => {
  it.each([
    [204, 'delivered'],
    [200, 'delivered'],
    [410, 'gone'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [400, 'reject'],
    [401, 'reject'],
    [404, 'reject'],
  ])('%p → %s', (status, kind) => {
    expect(classifyStatus(status, undefined).kind).toBe(kind);
  });

  it('parses Retry-After as seconds or HTTP-date', () => {
    const now = Date.UTC(2030, 0, 1);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
