import pino from 'pino';
import type { SipMessage } from 'sip';
import type { ClientHandlers, SendOptions, SentRequest } from '../transactions/client-transactions';
import { FakeDns, srv } from './__testing__/fake-dns';
import { OutboundTargets } from './outbound-targets';
import { TargetProber } from './target-prober';

const logger = pino({ level: 'silent' });
const p1 = { address: '192.0.2.1', port: 5061 };
const p2 = { address: '192.0.2.2', port: 5062 };

async function setup(srvRecords = [srv(10, 0, 5061, 'p1.ims.example'), srv(20, 0, 5062, 'p2.ims.example')]) {
  const dns = new FakeDns();
  dns.srv.set('_sip._udp.ims.example', srvRecords);
  dns.a.set('p1.ims.example', [{ address: p1.address, ttl: 60 }]);
  dns.a.set('p2.ims.example', [{ address: p2.address, ttl: 60 }]);
  const targets = new OutboundTargets({ location: { host: 'ims.example', transport: 'udp' }, dns, family: 4, logger });
  await targets.refresh();
  const sent: Array<{ rq: SipMessage; h: ClientHandlers; opts: SendOptions }> = [];
  const send = (rq: SipMessage, h: ClientHandlers, opts: SendOptions): SentRequest => {
    sent.push({ rq, h, opts });
    return { branch: 'b', via: 'v' };
  };
  return { targets, sent, prober: new TargetProber(targets, send, 'ims.example', 1000, logger) };
}

const answer = (status: number): SipMessage => ({ status, reason: 'x', headers: {} });

describe('TargetProber', () => {
  it('sends OPTIONS straight to each target; an answer brings a down target back, silence takes it down', async () => {
    const { targets, sent, prober } = await setup();
    targets.reportFailure(p1, 'timeout', 'INVITE timed out');
    prober.probeAll();
    expect(sent.map((s) => [s.rq.method, s.rq.uri, s.opts.to])).toEqual([
      ['OPTIONS', 'sip:192.0.2.1:5061', p1],
      ['OPTIONS', 'sip:192.0.2.2:5062', p2],
    ]);
    expect(sent[0]?.rq.headers.from?.uri).toBe('sip:gateway@ims.example');
    sent[0]?.h.onResponse(answer(100));
    expect(targets.status()[0]?.state).toBe('down');
    sent[0]?.h.onResponse(answer(404));
    sent[1]?.h.onTimeout();
    expect(targets.status().map((s) => s.state)).toEqual(['up', 'down']);
    expect(targets.status()[1]?.lastError).toBe('OPTIONS timed out');
  });

  it('keeps one OPTIONS in flight per target', async () => {
    const { sent, prober } = await setup();
    prober.probeAll();
    prober.probeAll();
    expect(sent).toHaveLength(2);
    sent[0]?.h.onResponse(answer(200));
    await new Promise((resolve) => setImmediate(resolve)); // the answered probe settles
    prober.probeAll();
    expect(sent.map((s) => s.opts.to)).toEqual([p1, p2, p1]);
  });

  it('pingAny: ready as soon as one target answers, sharing the OPTIONS already in flight', async () => {
    const { sent, prober } = await setup();
    prober.probeAll();
    const ping = prober.pingAny();
    expect(sent).toHaveLength(2);
    sent[0]?.h.onTimeout();
    sent[1]?.h.onResponse(answer(200));
    await expect(ping).resolves.toBe(200);
  });

  it('pingAny: fails, naming why, when no target answers', async () => {
    const { sent, prober } = await setup();
    const ping = prober.pingAny();
    sent[0]?.h.onTimeout();
    sent[1]?.h.onTransportError(new Error('ECONNREFUSED'));
    await expect(ping).rejects.toThrow('no outbound proxy target answered OPTIONS (192.0.2.1:5061: OPTIONS timed out; 192.0.2.2:5062: ECONNREFUSED)');
  });

  it('does not probe a lone target (the readiness OPTIONS covers it)', async () => {
    const { sent, prober } = await setup([srv(10, 0, 5061, 'p1.ims.example')]);
    prober.probeAll();
    expect(sent).toEqual([]);
  });
});
