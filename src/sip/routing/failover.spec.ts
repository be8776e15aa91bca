import pino from 'pino';
import type { SipMessage } from 'sip';
import type { ClientHandlers, SendOptions, SentRequest } from '../transactions/client-transactions';
import type { Peer } from '../transport';
import { FakeDns, srv } from './__testing__/fake-dns';
import { CallAffinity } from './call-affinity';
import { FailoverSender } from './failover';
import { OutboundTargets } from './outbound-targets';

const logger = pino({ level: 'silent' });
const p1 = { address: '192.0.2.1', port: 5061 };
const p2 = { address: '192.0.2.2', port: 5062 };

interface Attempt {
  rq: SipMessage;
  h: ClientHandlers;
  to: Peer | undefined;
  via: string | undefined;
  branch: string;
}

async function setup(affinity = new CallAffinity()): Promise<{ attempts: Attempt[]; targets: OutboundTargets; failover: FailoverSender }> {
  const dns = new FakeDns();
  dns.srv.set('_sip._udp.ims.example', [srv(10, 0, 5061, 'p1.ims.example'), srv(20, 0, 5062, 'p2.ims.example')]);
  dns.a.set('p1.ims.example', [{ address: p1.address, ttl: 60 }]);
  dns.a.set('p2.ims.example', [{ address: p2.address, ttl: 60 }]);
  const targets = new OutboundTargets({ location: { host: 'ims.example', transport: 'udp' }, dns, family: 4, logger });
  await targets.refresh();
  const attempts: Attempt[] = [];
  const send = (rq: SipMessage, h: ClientHandlers, opts: SendOptions): SentRequest => {
    const branch = `z9hG4bK-${attempts.length + 1}`;
    attempts.push({ rq, h, to: opts.to, via: opts.via, branch });
    return { branch, via: `SIP/2.0/UDP gw.example:5070;branch=${branch}` };
  };
  return { attempts, targets, failover: new FailoverSender(send, targets, logger, affinity) };
}

function request(method: string): SipMessage {
  return { method, uri: 'sip:ims.example', headers: { 'call-id': 'c1', cseq: { seq: 7, method } } };
}

function response(status: number, method: string, extra: SipMessage['headers'] = {}): SipMessage {
  return { status, reason: 'x', headers: { 'call-id': 'c1', cseq: { seq: 7, method }, ...extra } };
}

function tu(): ClientHandlers & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    onResponse: (rs) => seen.push(`response ${rs.status ?? 0}`),
    onTimeout: () => seen.push('timeout'),
    onTransportError: (err) => seen.push(`transport ${err.message}`),
    onRetarget: (s) => seen.push(`retarget ${s.branch}`),
  };
}

describe('FailoverSender (RFC 3263 §4.3)', () => {
  it('on a timeout sends the same request to the next target as a new transaction; the TU sees one outcome', async () => {
    const { attempts, targets, failover } = await setup();
    const h = tu();
    const sent = failover.sendRequest(request('REGISTER'), h, {});
    expect(attempts[0]?.to).toEqual(p1);
    attempts[0]?.h.onTimeout();
    expect(attempts[1]?.to).toEqual(p2);
    // identical request (Call-ID, CSeq), a new transaction (the branch is the transaction layer's)
    expect(attempts[1]?.rq.headers['call-id']).toBe('c1');
    expect(attempts[1]?.rq.headers.cseq).toEqual({ seq: 7, method: 'REGISTER' });
    expect(attempts[1]?.rq).not.toBe(attempts[0]?.rq);
    expect(sent.branch).toBe('z9hG4bK-2');
    attempts[1]?.h.onResponse(response(200, 'REGISTER'));
    expect(h.seen).toEqual(['retarget z9hG4bK-2', 'response 200']);
    expect(targets.status().map((s) => s.state)).toEqual(['down', 'up']);
    // the next request starts with the live target
    failover.sendRequest(request('OPTIONS'), tu(), {});
    expect(attempts[2]?.to).toEqual(p2);
  });

  it('on a transport error fails over too; when the last target fails the TU gets that failure', async () => {
    const { attempts, failover } = await setup();
    const h = tu();
    failover.sendRequest(request('OPTIONS'), h, {});
    attempts[0]?.h.onTransportError(new Error('ECONNREFUSED'));
    attempts[1]?.h.onTimeout();
    expect(attempts).toHaveLength(2);
    expect(h.seen).toEqual(['retarget z9hG4bK-2', 'timeout']);
  });

  it('on a 503 before any provisional tries the next target; the 503 of the last one reaches the TU', async () => {
    const { attempts, targets, failover } = await setup();
    const h = tu();
    failover.sendRequest(request('INVITE'), h, {});
    attempts[0]?.h.onResponse(response(100, 'INVITE'));
    attempts[0]?.h.onResponse(response(503, 'INVITE', { 'retry-after': '120' }));
    expect(attempts[1]?.to).toEqual(p2);
    attempts[1]?.h.onResponse(response(503, 'INVITE'));
    expect(attempts).toHaveLength(2);
    expect(h.seen).toEqual(['response 100', 'retarget z9hG4bK-2', 'response 503']);
    // Retry-After keeps the first target out of use (RFC 3261 §21.5.4)
    expect(targets.candidates()[0]).toEqual(p2);
    expect(targets.status()[0]).toMatchObject({ state: 'down', failures: { unavailable: 1 } });
  });

  it('sends the next request of a Call-ID (a digest retry) to the target that answered it, a new Call-ID to the first target', async () => {
    const { attempts, failover } = await setup();
    failover.sendRequest(request('REGISTER'), tu(), {});
    attempts[0]?.h.onResponse(response(503, 'REGISTER'));
    attempts[1]?.h.onResponse(response(401, 'REGISTER'));
    // p1 answered 503 without Retry-After: still usable, but this Call-ID keeps to p2
    failover.sendRequest(request('REGISTER'), tu(), {});
    expect(attempts[2]?.to).toEqual(p2);
    failover.sendRequest({ ...request('OPTIONS'), headers: { 'call-id': 'other', cseq: { seq: 1, method: 'OPTIONS' } } }, tu(), {});
    expect(attempts[3]?.to).toEqual(p1);
  });

  it('sends an ACK for a 2xx (outside any transaction) to the target of its Call-ID', async () => {
    const { attempts, targets, failover } = await setup();
    failover.sendRequest(request('INVITE'), tu(), {});
    attempts[0]?.h.onTimeout();
    attempts[1]?.h.onResponse(response(200, 'INVITE'));
    targets.reportAlive(p1); // p1 back: new Call-IDs go there, this one stays on p2
    expect(failover.destinationOf({ method: 'ACK', uri: 'sip:x', headers: { 'call-id': 'c1' } })).toEqual(p2);
    expect(failover.destinationOf({ method: 'ACK', uri: 'sip:x', headers: { 'call-id': 'c9' } })).toEqual(p1);
  });

  it("forgets a dialog's Call-ID once its BYE has a final response (RFC 3261 §15.1.1), not on a digest challenge", async () => {
    const { attempts, targets, failover } = await setup();
    const ack = { method: 'ACK', uri: 'sip:x', headers: { 'call-id': 'c1' } };
    failover.sendRequest(request('INVITE'), tu(), {});
    attempts[0]?.h.onTimeout();
    attempts[1]?.h.onResponse(response(200, 'INVITE'));
    targets.reportAlive(p1); // p1 back: only the affinity keeps c1 on p2
    expect(failover.destinationOf(ack)).toEqual(p2);
    failover.sendRequest(request('BYE'), tu(), {});
    expect(attempts[2]?.to).toEqual(p2);
    attempts[2]?.h.onResponse(response(407, 'BYE'));
    expect(failover.destinationOf(ack)).toEqual(p2); // the BYE is retried with credentials (§22.2) on p2
    failover.sendRequest(request('BYE'), tu(), {});
    expect(attempts[3]?.to).toEqual(p2);
    attempts[3]?.h.onResponse(response(200, 'BYE'));
    expect(failover.destinationOf(ack)).toEqual(p1);
  });

  it("forgets a dialog's Call-ID when its BYE times out or fails on the last target; other methods keep theirs", async () => {
    const affinity = new CallAffinity();
    const { attempts, failover } = await setup(affinity);
    failover.sendRequest(request('INVITE'), tu(), {});
    attempts[0]?.h.onResponse(response(200, 'INVITE'));
    expect(affinity.of('c1')).toEqual(p1);
    const other = (method: string): SipMessage => ({ ...request(method), headers: { 'call-id': 'c2', cseq: { seq: 1, method } } });
    failover.sendRequest(other('INVITE'), tu(), {});
    attempts[1]?.h.onResponse(response(200, 'INVITE'));
    expect(affinity.size).toBe(2);
    // c1: the BYE gets a provisional beyond 100 (so no failover), then times out: the dialog is over anyway
    failover.sendRequest(request('BYE'), tu(), {});
    attempts[2]?.h.onResponse(response(180, 'BYE'));
    attempts[2]?.h.onTimeout();
    expect(affinity.of('c1')).toBeUndefined();
    // c2: an INFO failing on the transport keeps the dialog (and its affinity); its BYE failing ends it
    failover.sendRequest(other('INFO'), tu(), {});
    attempts[3]?.h.onResponse(response(180, 'INFO'));
    attempts[3]?.h.onTransportError(new Error('EPIPE'));
    expect(affinity.of('c2')).toEqual(p1);
    failover.sendRequest(other('BYE'), tu(), {});
    attempts[4]?.h.onResponse(response(180, 'BYE'));
    attempts[4]?.h.onTransportError(new Error('EPIPE'));
    expect(affinity.size).toBe(0);
  });

  it("forgets a dialog's Call-ID when the far end ends it (its BYE)", async () => {
    const affinity = new CallAffinity();
    const { attempts, failover } = await setup(affinity);
    failover.sendRequest(request('INVITE'), tu(), {});
    attempts[0]?.h.onResponse(response(200, 'INVITE'));
    expect(affinity.of('c1')).toEqual(p1);
    failover.forgetCallId('c1');
    expect(affinity.of('c1')).toBeUndefined();
  });

  it("forgets a Call-ID's target once that target is down", async () => {
    const { attempts, targets, failover } = await setup();
    failover.sendRequest(request('REGISTER'), tu(), {});
    attempts[0]?.h.onTimeout();
    attempts[1]?.h.onResponse(response(200, 'REGISTER'));
    targets.reportAlive(p1);
    targets.reportFailure(p2, 'transport', 'ECONNREFUSED');
    failover.sendRequest(request('REGISTER'), tu(), {});
    expect(attempts[2]?.to).toEqual(p1);
  });

  it('does not fail over once the request got somewhere (a 180 was seen)', async () => {
    const { attempts, failover } = await setup();
    const h = tu();
    failover.sendRequest(request('INVITE'), h, {});
    attempts[0]?.h.onResponse(response(180, 'INVITE'));
    attempts[0]?.h.onResponse(response(503, 'INVITE'));
    expect(attempts).toHaveLength(1);
    expect(h.seen).toEqual(['response 180', 'response 503']);
  });

  it('sends a CANCEL where its INVITE went (RFC 3261 §9.1), and explicit destinations as given', async () => {
    const { attempts, failover } = await setup();
    const invite = failover.sendRequest(request('INVITE'), tu(), {});
    attempts[0]?.h.onTimeout();
    attempts[1]?.h.onResponse(response(180, 'INVITE'));
    failover.sendRequest(request('CANCEL'), tu(), { via: invite.via });
    expect(invite.branch).toBe('z9hG4bK-2');
    expect(attempts[2]).toMatchObject({ to: p2, via: invite.via });
    failover.sendRequest(request('OPTIONS'), tu(), { to: p1 });
    expect(attempts[3]?.to).toEqual(p1);
  });

  it('fails at once, without sending, when DNS gave no target', async () => {
    const dns = new FakeDns();
    dns.failWith = 'ETIMEOUT';
    const targets = new OutboundTargets({ location: { host: 'ims.example', transport: 'udp' }, dns, family: 4, logger });
    await targets.refresh();
    const send = jest.fn();
    const h = tu();
    new FailoverSender(send, targets, logger).sendRequest(request('REGISTER'), h, {});
    await Promise.resolve();
    expect(send).not.toHaveBeenCalled();
    expect(h.seen).toEqual([expect.stringMatching(/^transport the outbound proxy has no address: .*ETIMEOUT/)]);
  });
});
