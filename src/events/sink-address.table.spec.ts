import { isForbiddenAddress, ResolvedAddress, SinkPolicy, SinkRejectedError, systemResolve } from './sink-address';

describe(`${isForbiddenAddress.name}: embedded IPv4 forms`, () => {
  // Each row pairs with the rule it exercises: only the exact prefix of an embedding form carries an
  // IPv4 address; the same last 32 bits under another prefix are an ordinary global address.
  it.each([
    ['IPv4-compatible needs ::/96 (RFC 4291 §2.5.5.1)', '::1234:7f00:1', false],
    ['RFC 6145 translated needs ::ffff:0:0:0/96', '2001:4860::ffff:0:7f00:1', false],
    ['RFC 6145 translated needs ffff in the fifth group', '::1:0:7f00:1', false],
    ['RFC 6145 translated needs 0 in the sixth group', '::ffff:1:7f00:1', false],
    ['NAT64 needs 64:ff9b (RFC 6052), not 64:1', '64:1::7f00:1', false],
    ['NAT64 needs 64 in the first group', '2600:ff9b::7f00:1', false],
    ['ISATAP needs 0 or 200 before 5efe (RFC 5214 §6.1)', '2001:4860::1:5efe:7f00:1', false],
    ['ISATAP with the universal/local bit (0200:5efe) of loopback', '2600::200:5efe:7f00:1', true],
    ['ISATAP (0:5efe) of loopback', '2600::5efe:7f00:1', true],
    ['the RFC 8215 local-use prefix, whatever its last 32 bits', '64:ff9b:1::808:808', true],
  ])('%s: %s → forbidden %s', (_, ip, forbidden) => {
    expect(isForbiddenAddress(ip)).toBe(forbidden);
  });
});

describe(`${isForbiddenAddress.name}: literal forms`, () => {
  it.each([
    ['a bracketed public IPv6', '[2001:4860:4860::8888]', false],
    ['a public IPv6 with a zone id', '2001:4860:4860::8888%eth0', false],
    ['a link-local IPv6 with a zone id', 'fe80::1%eth0', true],
    ['a bracket inside the text', '8.8.[8.8', true],
    ['a closing bracket inside the text', '8.8.]8.8', true],
  ])('%s: %s → forbidden %s', (_, ip, forbidden) => {
    expect(isForbiddenAddress(ip)).toBe(forbidden);
  });
});

describe(`${SinkPolicy.name}: refusals`, () => {
  const publicName = async (): Promise<ResolvedAddress[]> => [{ address: '93.184.216.34', family: 4 }];

  it.each([
    ['not a URL', false, 'sink', 'sink is not a valid URL'],
    ['plain http', false, 'http://sink.example.com/', 'sink must be an https:// URL'],
    ['another scheme, even with private sinks allowed', true, 'ftp://sink.example.com/', 'sink must be an https:// URL'],
    ['a user name without password', false, 'https://u@sink.example.com/', 'sink must not carry user information'],
    ['a password without user name', false, 'https://:p@sink.example.com/', 'sink must not carry user information'],
  ])('%s', async (_, allowPrivate, sink, message) => {
    const e = await new SinkPolicy(allowPrivate, publicName).check(sink).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SinkRejectedError);
    expect(e).toMatchObject({ name: 'SinkRejectedError', message, transient: false });
  });

  it('accepts the same forms when they are right (positive control)', async () => {
    await expect(new SinkPolicy(false, publicName).check('https://sink.example.com/')).resolves.toBeInstanceOf(URL);
    await expect(new SinkPolicy(true, publicName).check('http://sink.example.com/')).resolves.toBeInstanceOf(URL);
  });

  it('refuses a name that resolves to nothing, as transient', async () => {
    const e = await new SinkPolicy(false, async () => []).check('https://sink.example.com/').catch((err: unknown) => err);
    expect(e).toMatchObject({ name: 'SinkRejectedError', message: 'sink host sink.example.com does not resolve', transient: true });
  });

  it('says why a name did not resolve, as transient', async () => {
    const failing = async (): Promise<ResolvedAddress[]> => Promise.reject(new Error('getaddrinfo ENOTFOUND nowhere.example'));
    const e = await new SinkPolicy(false, failing).check('https://nowhere.example/').catch((err: unknown) => err);
    expect(e).toMatchObject({ message: 'sink host nowhere.example does not resolve (getaddrinfo ENOTFOUND nowhere.example)', transient: true });
  });

  it('names the non-public address refusal, not transient', async () => {
    const e = await new SinkPolicy(false, async () => [{ address: '10.0.0.5', family: 4 }]).check('https://sink.example.com/').catch((err: unknown) => err);
    expect(e).toMatchObject({ message: 'sink host sink.example.com resolves to a non-public address', transient: false });
  });
});

describe(`${SinkPolicy.name}: addresses`, () => {
  it.each<[string, ResolvedAddress[]]>([
    ['8.8.8.8', [{ address: '8.8.8.8', family: 4 }]],
    ['[2001:4860:4860::8888]', [{ address: '2001:4860:4860::8888', family: 6 }]],
  ])('uses the literal %s as its own address, without resolving', async (host, expected) => {
    const resolve = jest.fn(async (): Promise<ResolvedAddress[]> => [{ address: '10.0.0.1', family: 4 }]);
    await expect(new SinkPolicy(false, resolve).resolveAllowed(host)).resolves.toStrictEqual(expected);
    expect(resolve).not.toHaveBeenCalled();
  });

  it('resolves a name as given, only IPv6 brackets at its ends removed', async () => {
    const resolve = jest.fn(async (): Promise<ResolvedAddress[]> => [{ address: '93.184.216.34', family: 4 }]);
    await new SinkPolicy(false, resolve).resolveAllowed('a[b]c');
    expect(resolve).toHaveBeenCalledWith('a[b]c');
    await expect(new SinkPolicy(false, resolve).resolveAllowed('sink.example.com')).resolves.toStrictEqual([{ address: '93.184.216.34', family: 4 }]);
  });
});

describe('systemResolve', () => {
  it.each<[string, ResolvedAddress[]]>([
    ['127.0.0.1', [{ address: '127.0.0.1', family: 4 }]],
    ['::1', [{ address: '::1', family: 6 }]],
  ])('returns every address of %s with its family', async (host, expected) => {
    await expect(systemResolve(host)).resolves.toStrictEqual(expected);
  });
});
