import pino from 'pino';
import { FakeDns, srv } from './__testing__/fake-dns';
import { OutboundTargets } from './outbound-targets';

const logger = pino({ level: 'silent' });

function lab(ttl = 60): { dns: FakeDns; clock: { t: number }; targets: OutboundTargets } {
  const dns = new FakeDns();
  dns.srv.set('_sip._udp.ims.example', [srv(10, 0, 5061, 'p1.ims.example'), srv(20, 0, 5062, 'p2.ims.example')]);
  dns.a.set('p1.ims.example', [{ address: '192.0.2.1', ttl }]);
  dns.a.set('p2.ims.example', [{ address: '192.0.2.2', ttl }]);
  const clock = { t: 1_000_000 };
  const targets = new OutboundTargets({ location: { host: 'ims.example', transport: 'udp' }, dns, family: 4, logger, now: () => clock.t, random: () => 0.5 });
  return { dns, clock, targets };
}

const p1 = { address: '192.0.2.1', port: 5061 };
const p2 = { address: '192.0.2.2', port: 5062 };

describe('OutboundTargets', () => {
  it('lists the resolved targets in RFC 3263 order, all unknown at first', async () => {
    const { targets } = lab();
    await targets.refresh();
    expect(targets.candidates()).toEqual([p1, p2]);
    expect(targets.status().map((s) => [s.target, s.name, s.state])).toEqual([
      ['192.0.2.1:5061', 'p1.ims.example', 'unknown'],
      ['192.0.2.2:5062', 'p2.ims.example', 'unknown'],
    ]);
  });

  it('puts a down target last until it answers again, keeping its last error', async () => {
    const { targets } = lab();
    await targets.refresh();
    targets.reportFailure(p1, 'timeout', 'REGISTER timed out');
    expect(targets.candidates()).toEqual([p2, p1]);
    expect(targets.status()[0]).toMatchObject({ state: 'down', lastError: 'REGISTER timed out', failures: { timeout: 1, transport: 0, unavailable: 0 } });
    targets.reportAlive(p1);
    expect(targets.candidates()).toEqual([p1, p2]);
    expect(targets.status()[0]).toMatchObject({ state: 'up', lastError: 'REGISTER timed out' });
  });

  it('keeps a failed target down for the hold-down time even if it answers meanwhile', async () => {
    const { dns, clock } = lab();
    const targets = new OutboundTargets({ location: { host: 'ims.example', transport: 'udp' }, dns, family: 4, logger, now: () => clock.t, holdDownMs: 20_000 });
    await targets.refresh();
    targets.reportFailure(p1, 'transport', 'ECONNREFUSED');
    clock.t += 19_999;
    targets.reportAlive(p1);
    expect(targets.candidates()).toEqual([p2, p1]);
    expect(targets.status()[0]?.state).toBe('down');
    clock.t += 1;
    targets.reportAlive(p1);
    expect(targets.candidates()).toEqual([p1, p2]);
  });

  it('a 503 without Retry-After leaves the order alone; with Retry-After the target is skipped that long even if it answers', async () => {
    const { targets, clock } = lab();
    await targets.refresh();
    targets.reportAlive(p1);
    targets.reportFailure(p1, 'unavailable', '503');
    expect(targets.candidates()).toEqual([p1, p2]);
    targets.reportFailure(p1, 'unavailable', '503', 30_000);
    targets.reportAlive(p1);
    expect(targets.candidates()).toEqual([p2, p1]);
    clock.t += 30_000;
    targets.reportAlive(p1);
    expect(targets.candidates()).toEqual([p1, p2]);
  });

  it('keeps the answer for its TTL, then refreshes in the background and keeps what it knew of each target', async () => {
    const { dns, targets, clock } = lab(60);
    await targets.refresh();
    targets.reportFailure(p2, 'transport', 'ECONNREFUSED');
    const asked = dns.queries.length;
    clock.t += 59_000;
    targets.candidates();
    expect(dns.queries.length).toBe(asked);
    dns.a.set('p1.ims.example', [{ address: '192.0.2.11', ttl: 60 }]);
    clock.t += 1_000;
    expect(targets.candidates()).toEqual([p1, p2]); // the stale list serves while DNS answers
    await targets.refresh();
    expect(dns.queries.length).toBeGreaterThan(asked);
    expect(targets.candidates()).toEqual([{ address: '192.0.2.11', port: 5061 }, p2]);
    expect(targets.status()[1]).toMatchObject({ target: '192.0.2.2:5062', state: 'down', lastError: 'ECONNREFUSED' });
  });

  it('keeps the old list when a refresh fails, and reports the DNS error while it has none', async () => {
    const { dns, targets, clock } = lab();
    dns.failWith = 'ETIMEOUT';
    await targets.refresh();
    expect(targets.candidates()).toEqual([]);
    expect(targets.dnsError).toMatch(/ETIMEOUT/);
    dns.failWith = undefined;
    clock.t += 5_000;
    await targets.refresh();
    expect(targets.candidates()).toEqual([p1, p2]);
    dns.failWith = 'ESERVFAIL';
    clock.t += 120_000;
    await targets.refresh();
    expect(targets.candidates()).toEqual([p1, p2]);
    expect(targets.dnsError).toBeUndefined();
  });

  it('gives the same peers array until the list changes (the trust domain is rebuilt only then)', async () => {
    const { targets } = lab();
    await targets.refresh();
    const first = targets.peers();
    targets.reportFailure(p1, 'timeout', 'x');
    expect(targets.peers()).toBe(first);
    await targets.refresh();
    expect(targets.peers()).not.toBe(first);
    expect(targets.peers()).toEqual([p1, p2]);
  });
});
