import { FakeDns, naptr, srv } from './__testing__/fake-dns';
import { HOSTS_TTL_S, MAX_CACHE_S, MIN_CACHE_S, nodeDnsClient, orderSrv, proxyLocation, resolveProxy } from './rfc3263';

/** A sequence of "random" numbers in [0, 1). */
function draws(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

describe('proxyLocation', () => {
  it('reads host, port and the configured transport; sips: means TLS (RFC 3263 §4.1)', () => {
    expect(proxyLocation('sip:pcscf.ims.example:5080;transport=udp', 'udp')).toEqual({ host: 'pcscf.ims.example', port: 5080, transport: 'udp' });
    expect(proxyLocation('sip:pcscf.ims.example', 'tcp')).toEqual({ host: 'pcscf.ims.example', transport: 'tcp' });
    expect(proxyLocation('sips:pcscf.ims.example', 'tcp')).toEqual({ host: 'pcscf.ims.example', transport: 'tls' });
    expect(proxyLocation('sip:[2001:db8::5]:5060', 'udp')).toEqual({ host: '2001:db8::5', port: 5060, transport: 'udp' });
  });

  it('refuses what is not a SIP URI', () => {
    expect(() => proxyLocation('http://pcscf', 'udp')).toThrow(/not a SIP URI/);
  });
});

describe('orderSrv (RFC 2782)', () => {
  const a = srv(10, 60, 5060, 'a.example');
  const b = srv(10, 40, 5060, 'b.example');
  const c = srv(20, 100, 5060, 'c.example');

  it('puts lower priorities first whatever the weights', () => {
    const order = orderSrv([c, b, a], draws(0, 0, 0)); // a draw of 0 would pick the first record listed (c) were priorities ignored
    expect(order.map((r) => r.name).at(-1)).toBe('c.example');
  });

  it('draws within a priority by weight: the running sum decides', () => {
    // weights 60 (a) + 40 (b): a draw below 0.6 picks a first, at or above picks b first
    expect(orderSrv([a, b], draws(0.59, 0)).map((r) => r.name)).toEqual(['a.example', 'b.example']);
    expect(orderSrv([a, b], draws(0.61, 0)).map((r) => r.name)).toEqual(['b.example', 'a.example']);
  });

  it('spreads first choices in proportion to the weights', () => {
    let first = 0;
    let seed = 1;
    const lcg = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) if (orderSrv([a, b], lcg)[0]?.name === 'a.example') first++;
    expect(first / 2000).toBeGreaterThan(0.55);
    expect(first / 2000).toBeLessThan(0.65);
  });

  it('chooses weight-0 records last unless the draw is exactly 0, and drops "." targets', () => {
    const zero = srv(10, 0, 5060, 'zero.example');
    expect(orderSrv([a, zero, srv(10, 5, 5060, '.')], draws(0.5, 0.5)).map((r) => r.name)).toEqual(['a.example', 'zero.example']);
    expect(orderSrv([a, zero], draws(0, 0)).map((r) => r.name)).toEqual(['zero.example', 'a.example']);
  });
});

describe('resolveProxy (RFC 3263 §4)', () => {
  it('uses an IP address as is, with the default port (§4.2), without any query', async () => {
    const dns = new FakeDns();
    const r = await resolveProxy({ host: '10.0.0.10', transport: 'udp' }, dns, 4);
    expect(r).toEqual({ targets: [{ address: '10.0.0.10', port: 5060, transport: 'udp', name: '10.0.0.10' }], ttlS: Infinity, source: 'ip' });
    expect(dns.queries).toEqual([]);
    expect((await resolveProxy({ host: '10.0.0.10', transport: 'tls' }, dns, 4)).targets[0]?.port).toBe(5061);
  });

  it('skips NAPTR and SRV when the port is explicit (§4.2)', async () => {
    const dns = new FakeDns();
    dns.a.set('pcscf.example', [{ address: '192.0.2.1', ttl: 60 }]);
    const r = await resolveProxy({ host: 'pcscf.example', port: 5080, transport: 'udp' }, dns, 4);
    expect(r.targets).toEqual([{ address: '192.0.2.1', port: 5080, transport: 'udp', name: 'pcscf.example' }]);
    expect(dns.queries).toEqual(['A pcscf.example']);
    expect(r.source).toBe('a');
  });

  it('follows the NAPTR of the configured transport, then its SRV, then A records (§4.1)', async () => {
    const dns = new FakeDns();
    dns.naptr.set('ims.example', [naptr(10, 10, 'SIPS+D2T', '_sips._tcp.ims.example'), naptr(20, 10, 'SIP+D2U', '_sip._udp.ims.example'), naptr(10, 20, 'SIP+D2T', '_sip._tcp.ims.example')]);
    dns.srv.set('_sip._tcp.ims.example', [srv(10, 0, 5070, 'pcscf1.ims.example'), srv(20, 0, 5071, 'pcscf2.ims.example')]);
    dns.srv.set('_sip._udp.ims.example', [srv(10, 0, 6000, 'wrong.ims.example')]);
    dns.a.set('pcscf1.ims.example', [{ address: '192.0.2.1', ttl: 300 }]);
    dns.a.set('pcscf2.ims.example', [
      { address: '192.0.2.2', ttl: 120 },
      { address: '192.0.2.3', ttl: 120 },
    ]);
    const r = await resolveProxy({ host: 'ims.example', transport: 'tcp' }, dns, 4, draws(0.5));
    expect(r.source).toBe('naptr');
    expect(r.targets.map((t) => `${t.address}:${t.port}/${t.transport}`)).toEqual(['192.0.2.1:5070/tcp', '192.0.2.2:5071/tcp', '192.0.2.3:5071/tcp']);
    expect(r.ttlS).toBe(120);
    expect(dns.queries).not.toContain('SRV _sip._udp.ims.example');
  });

  it('names TLS by SIPS+D2T and _sips._tcp', async () => {
    const dns = new FakeDns();
    dns.naptr.set('ims.example', [naptr(10, 10, 'SIPS+D2T', '_sips._tcp.ims.example'), naptr(5, 10, 'SIP+D2U', '_sip._udp.ims.example')]);
    dns.srv.set('_sips._tcp.ims.example', [srv(10, 0, 5061, 'pcscf.ims.example')]);
    dns.a.set('pcscf.ims.example', [{ address: '192.0.2.9', ttl: 60 }]);
    const r = await resolveProxy({ host: 'ims.example', transport: 'tls' }, dns, 4);
    expect(r.targets).toEqual([{ address: '192.0.2.9', port: 5061, transport: 'tls', name: 'pcscf.ims.example' }]);
  });

  it('without NAPTR queries the SRV of the transport, and without SRV the A record on the default port (§4.2)', async () => {
    const dns = new FakeDns();
    dns.srv.set('_sip._udp.ims.example', [srv(10, 0, 5062, 'pcscf.ims.example')]);
    dns.a.set('pcscf.ims.example', [{ address: '192.0.2.1', ttl: 60 }]);
    dns.a.set('ims.example', [{ address: '192.0.2.7', ttl: 60 }]);
    const viaSrv = await resolveProxy({ host: 'ims.example', transport: 'udp' }, dns, 4);
    expect([viaSrv.source, viaSrv.targets[0]?.port]).toEqual(['srv', 5062]);
    dns.srv.clear();
    const viaA = await resolveProxy({ host: 'ims.example', transport: 'udp' }, dns, 4);
    expect(viaA.targets).toEqual([{ address: '192.0.2.7', port: 5060, transport: 'udp', name: 'ims.example' }]);
    expect(viaA.source).toBe('a');
  });

  it('asks AAAA for an IPv6 socket', async () => {
    const dns = new FakeDns();
    dns.aaaa.set('pcscf.example', [{ address: '2001:db8::1', ttl: 60 }]);
    const r = await resolveProxy({ host: 'pcscf.example', port: 5060, transport: 'udp' }, dns, 6);
    expect(r.targets[0]?.address).toBe('2001:db8::1');
    expect(dns.queries).toEqual(['AAAA pcscf.example']);
  });

  it('keeps the cache time within bounds (Node gives no TTL for NAPTR/SRV)', async () => {
    const dns = new FakeDns();
    dns.a.set('short.example', [{ address: '192.0.2.1', ttl: 0 }]);
    dns.a.set('long.example', [{ address: '192.0.2.1', ttl: 86400 }]);
    expect((await resolveProxy({ host: 'short.example', port: 5060, transport: 'udp' }, dns, 4)).ttlS).toBe(MIN_CACHE_S);
    expect((await resolveProxy({ host: 'long.example', port: 5060, transport: 'udp' }, dns, 4)).ttlS).toBe(MAX_CACHE_S);
  });

  it('rejects when nothing resolves, and passes DNS failures other than "no such record" on', async () => {
    const dns = new FakeDns();
    await expect(resolveProxy({ host: 'nowhere.example', transport: 'udp' }, dns, 4)).rejects.toThrow(/nowhere.example: no A record/);
    dns.failWith = 'ETIMEOUT';
    await expect(resolveProxy({ host: 'nowhere.example', transport: 'udp' }, dns, 4)).rejects.toThrow(/ETIMEOUT/);
  });
});

describe('nodeDnsClient', () => {
  it("with the system's resolvers, a name only the hosts file knows still has its address (as before RFC 3263)", async () => {
    const r = await resolveProxy({ host: 'localhost', port: 5060, transport: 'udp' }, nodeDnsClient(), 4);
    expect(r.targets).toEqual([{ address: '127.0.0.1', port: 5060, transport: 'udp', name: 'localhost' }]);
    expect(r.ttlS).toBe(HOSTS_TTL_S);
  });
});
