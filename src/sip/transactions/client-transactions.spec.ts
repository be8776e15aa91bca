import type { Peer } from '../transport';
import type { ClientHandlers } from './client-transactions';
import { PROXY, request, response, setup, TIMERS } from './__testing__/client-harness';
import { viaText } from './via';

/** RFC 3261 §17.1 client transactions against a fake transport and jest's fake clock. */

const t0 = Date.UTC(2030, 0, 1);
beforeEach(() => jest.useFakeTimers({ now: t0 }));
afterEach(() => jest.useRealTimers());

describe('RFC 3261 §17.1.1 INVITE client transaction', () => {
  it('§17.1.1.2 Timer A: over UDP retransmits at T1, 2T1, 4T1… (doubling without the T2 cap) until Timer B', () => {
    const { ct, sent, h } = setup(false);
    ct.send(request('INVITE'), h);
    jest.advanceTimersByTime(TIMERS.transactionTimeoutMs - 1);
    const offsets = sent.map((s) => s.at - t0);
    // 0, 500, 1500, 3500, 7500, 15500, 31500: intervals 500, 1000, 2000, 4000, 8000, 16000
    expect(offsets).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(sent.map((s) => s.retransmission)).toEqual([false, true, true, true, true, true, true]);
    expect(sent.every((s) => s.m.method === 'INVITE' && s.to === PROXY)).toBe(true);
  });

  it('§17.1.1.2 Timer A is not used over a reliable transport (TCP): one INVITE only', () => {
    const { ct, sent, h } = setup(true);
    ct.send(request('INVITE'), h);
    jest.advanceTimersByTime(TIMERS.transactionTimeoutMs - 1);
    expect(sent).toHaveLength(1);
  });

  it('§17.1.1.2 Timer B (64*T1): no answer → the TU is told of the timeout once, counted, nothing more sent', () => {
    const { ct, sent, h, events, timeouts } = setup(false);
    ct.send(request('INVITE'), h);
    jest.advanceTimersByTime(TIMERS.transactionTimeoutMs - 1);
    expect(events).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(events).toEqual(['timeout']);
    expect(timeouts).toEqual(['INVITE']);
    const count = sent.length;
    jest.advanceTimersByTime(10 * TIMERS.transactionTimeoutMs);
    expect(sent).toHaveLength(count);
    expect(events).toEqual(['timeout']);
  });

  it('§17.1.1.2 a 1xx moves to Proceeding: retransmissions and Timer B stop, the 1xx reaches the TU', () => {
    const { ct, sent, h, events } = setup(false);
    ct.send(request('INVITE'), h);
    const invite = sent[0]!.m;
    ct.onResponse(response(invite, 100));
    ct.onResponse(response(invite, 180));
    jest.advanceTimersByTime(TIMERS.transactionTimeoutMs + 1000);
    expect(sent).toHaveLength(1);
    expect(events).toEqual(['response 100', 'response 180']);
    // the Proceeding guard (maxInviteMs) still ends a transaction whose final answer never comes
    jest.advanceTimersByTime(TIMERS.maxInviteMs);
    expect(events).toEqual(['response 100', 'response 180', 'timeout']);
  });

  it('RFC 6026 §7.2 a 2xx → Accepted: every 2xx (retransmission, second fork) reaches the TU, which ACKs it; no ACK from the transaction', () => {
    const { ct, sent, h, events } = setup(false);
    ct.send(request('INVITE'), h);
    const invite = sent[0]!.m;
    ct.onResponse(response(invite, 200, 'fork1'));
    ct.onResponse(response(invite, 200, 'fork1')); // retransmitted 2xx: the TU re-ACKs it (§13.2.2.4)
    ct.onResponse(response(invite, 200, 'fork2')); // a second 2xx from a fork
    expect(events).toEqual(['response 200', 'response 200', 'response 200']);
    expect(sent).toHaveLength(1); // no ACK, no retransmission from the transaction
    jest.advanceTimersByTime(TIMERS.transactionTimeoutMs * 4);
    expect(sent).toHaveLength(1);
    expect(events).not.toContain('timeout');
  });

  it('RFC 6026 §7.2 Timer M (64*T1): after it the transaction is terminated and a late 2xx matches nothing', () => {
    const { ct, sent, h, events } = setup(false);
    ct.send(request('INVITE'), h);
    const invite = sent[0]!.m;
    ct.onResponse(response(invite, 200));
    jest.advanceTimersByTime(64 * TIMERS.t1 - 1);
    ct.onResponse(response(invite, 200));
    expect(events).toEqual(['response 200', 'response 200']);
    jest.advanceTimersByTime(1);
    ct.onResponse(response(invite, 200));
    expect(events).toEqual(['response 200', 'response 200']);
  });

  it('§17.1.1.3 a non-2xx final is ACKed by the transaction (same branch, To tag of the response, Route kept) and passed up once', () => {
    const { ct, sent, h, events } = setup(false);
    ct.send(request('INVITE', 7), h);
    const invite = sent[0]!.m;
    ct.onResponse(response(invite, 486, 'busy'));
    expect(events).toEqual(['response 486']);
    expect(sent).toHaveLength(2);
    const ack = sent[1]!;
    expect(ack.m.method).toBe('ACK');
    expect(ack.m.uri).toBe(invite.uri);
    expect(ack.to).toBe(PROXY);
    expect(ack.retransmission).toBe(false);
    expect(ack.m.headers.via?.[0]?.params.branch).toBe(invite.headers.via?.[0]?.params.branch);
    expect(ack.m.headers.via).toHaveLength(1);
    expect(ack.m.headers.cseq).toEqual({ seq: 7, method: 'ACK' });
    expect(ack.m.headers.to?.params.tag).toBe('busy');
    expect(ack.m.headers.from?.params.tag).toBe('a1');
    expect(ack.m.headers['call-id']).toBe('call-1@192.0.2.1');
    expect(String(ack.m.headers['max-forwards'])).toBe('70');
    expect(ack.m.headers.route?.map((r) => r.uri)).toEqual(['sip:192.0.2.10;lr']);
  });

  it('§17.1.1.3 the ACK carries no Route when the INVITE had none', () => {
    const { ct, sent, h } = setup(false);
    const rq = request('INVITE');
    delete rq.headers.route;
    ct.send(rq, h);
    ct.onResponse(response(sent[0]!.m, 404));
    expect(sent[1]!.m.headers.route).toBeUndefined();
  });

  it('§17.1.1.2 Timer D (64*T1 on UDP): a retransmitted final is re-ACKed, not passed up; after Timer D it matches nothing', () => {
    const { ct, sent, h, events } = setup(false);
    ct.send(request('INVITE'), h);
    const invite = sent[0]!.m;
    ct.onResponse(response(invite, 180));
    ct.onResponse(response(invite, 603));
    jest.advanceTimersByTime(64 * TIMERS.t1 - 1);
    ct.onResponse(response(invite, 603));
    expect(events).toEqual(['response 180', 'response 603']);
    expect(sent.map((s) => `${s.m.method ?? ''} ${s.retransmission}`)).toEqual(['INVITE false', 'ACK false', 'ACK true']);
    expect(sent[2]!.m.headers.via?.[0]?.params.branch).toBe(invite.headers.via?.[0]?.params.branch);
    // late 1xx and 2xx in Completed are ignored
    ct.onResponse(response(invite, 180));
    ct.onResponse(response(invite, 200));
    expect(events).toEqual(['response 180', 'response 603']);
    jest.advanceTimersByTime(1);
    ct.onResponse(response(invite, 603));
    expect(sent).toHaveLength(3);
  });

  it('§17.1.1.2 Timer D is zero over TCP: the transaction ends with the ACK', () => {
    const { ct, sent, h, events } = setup(true);
    ct.send(request('INVITE'), h);
    ct.onResponse(response(sent[0]!.m, 500));
    ct.onResponse(response(sent[0]!.m, 500));
    expect(sent.map((s) => s.m.method)).toEqual(['INVITE', 'ACK']);
    expect(events).toEqual(['response 500']);
  });

  it('§17.1.3 responses are matched on branch and CSeq method: another branch or method is dropped', () => {
    const { ct, sent, h, events } = setup(false);
    ct.send(request('INVITE'), h);
    const invite = sent[0]!.m;
    const otherBranch = response(invite, 200);
    otherBranch.headers.via = [{ ...invite.headers.via![0]!, params: { branch: 'z9hG4bKother' } }];
    ct.onResponse(otherBranch);
    const otherMethod = response(invite, 200);
    otherMethod.headers.cseq = { seq: 1, method: 'BYE' };
    ct.onResponse(otherMethod);
    expect(events).toEqual([]);
  });
});

describe('RFC 3261 §17.1.2 non-INVITE client transaction', () => {
  it('§17.1.2.2 Timer E over UDP: T1 doubling, capped at T2, also in Proceeding; Timer F (64*T1) → timeout', () => {
    const { ct, sent, h, events, timeouts } = setup(false);
    ct.send(request('OPTIONS'), h);
    jest.advanceTimersByTime(8000);
    // 0, 500, 1500, 3500 (intervals 500, 1000, 2000), then 4000 each: 7500
    expect(sent.map((s) => s.at - t0)).toEqual([0, 500, 1500, 3500, 7500]);
    ct.onResponse(response(sent[0]!.m, 100));
    jest.advanceTimersByTime(8000);
    // Proceeding: retransmissions go on at T2 (§17.1.2.2)
    expect(sent.map((s) => s.at - t0)).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500]);
    expect(events).toEqual(['response 100']);
    jest.advanceTimersByTime(TIMERS.transactionTimeoutMs - 16000 - 1);
    expect(events).toEqual(['response 100']);
    jest.advanceTimersByTime(1);
    expect(events).toEqual(['response 100', 'timeout']);
    expect(timeouts).toEqual(['OPTIONS']);
  });

  it('§17.1.2.2 no Timer E over TCP', () => {
    const { ct, sent, h, events } = setup(true);
    ct.send(request('BYE'), h);
    jest.advanceTimersByTime(TIMERS.transactionTimeoutMs);
    expect(sent).toHaveLength(1);
    expect(events).toEqual(['timeout']);
  });

  it('§17.1.2.2 a final → Completed: passed up once, retransmissions stop, Timer K (T4) absorbs repeats, then nothing matches', () => {
    const { ct, sent, h, events } = setup(false);
    ct.send(request('REGISTER'), h);
    ct.onResponse(response(sent[0]!.m, 401));
    jest.advanceTimersByTime(TIMERS.t4 - 1);
    ct.onResponse(response(sent[0]!.m, 401));
    ct.onResponse(response(sent[0]!.m, 100));
    expect(sent).toHaveLength(1);
    expect(events).toEqual(['response 401']);
    jest.advanceTimersByTime(TIMERS.transactionTimeoutMs);
    expect(events).toEqual(['response 401']);
  });

  it('§17.1.2.2 Timer K is zero over TCP', () => {
    const { ct, sent, h, events } = setup(true);
    ct.send(request('REGISTER'), h);
    ct.onResponse(response(sent[0]!.m, 200));
    ct.onResponse(response(sent[0]!.m, 200));
    expect(events).toEqual(['response 200']);
  });
});

describe('RFC 3261 §17.1 sending, transport errors, close', () => {
  it('§9.1 a CANCEL reuses the given Via verbatim; the answer to it matches CANCEL, not the INVITE', () => {
    const { ct, sent, h, events } = setup(false);
    const inv = ct.send(request('INVITE'), h);
    const cancelEvents: string[] = [];
    const sentCancel = ct.send(
      request('CANCEL'),
      { onResponse: (rs) => cancelEvents.push(`cancel ${rs.status ?? 0}`), onTimeout: () => undefined, onTransportError: () => undefined },
      { via: inv.via },
    );
    expect(sentCancel).toEqual(inv);
    expect(viaText(sent[1]!.m.headers.via![0]!)).toBe(inv.via);
    ct.onResponse(response(sent[1]!.m, 200));
    expect(cancelEvents).toEqual(['cancel 200']);
    expect(events).toEqual([]);
  });

  it('writes a fresh branch per request and sends to the given target instead of the proxy', () => {
    const { ct, sent, h } = setup(false);
    const to: Peer = { address: '198.51.100.7', port: 5080 };
    const a = ct.send(request('OPTIONS'), h, { to });
    const b = ct.send(request('OPTIONS'), h);
    expect(a.branch).toMatch(/^z9hG4bK/);
    expect(a.branch).not.toBe(b.branch);
    expect(sent[0]!.to).toBe(to);
    expect(sent[1]!.to).toBe(PROXY);
    expect(sent[0]!.m.headers.via?.[0]).toMatchObject({ protocol: 'UDP', host: '192.0.2.1', port: 5070 });
    expect(a.via).toContain(a.branch);
  });

  it('§17.1.4 a transport error in Calling is reported to the TU and ends the transaction (no retransmission, no timeout)', () => {
    const { ct, sent, h, events } = setup(false);
    ct.send(request('INVITE'), h);
    sent[0]!.onError?.(new Error('ECONNREFUSED'));
    jest.advanceTimersByTime(TIMERS.transactionTimeoutMs * 2);
    expect(events).toEqual(['transport error: ECONNREFUSED']);
    expect(sent).toHaveLength(1);
  });

  it('§17.1.4 a transport error after the final answer is not reported', () => {
    const { ct, sent, h, events } = setup(false);
    ct.send(request('OPTIONS'), h);
    ct.onResponse(response(sent[0]!.m, 200));
    sent[0]!.onError?.(new Error('late'));
    expect(events).toEqual(['response 200']);
  });

  it('close() stops every timer; a request sent afterwards gets a transport error, not a send', () => {
    const { ct, sent, h, events } = setup(false);
    ct.send(request('INVITE'), h);
    ct.close();
    jest.advanceTimersByTime(TIMERS.transactionTimeoutMs * 2);
    expect(sent).toHaveLength(1);
    expect(events).toEqual([]);
    ct.send(request('OPTIONS'), h);
    expect(sent).toHaveLength(1);
    expect(events).toEqual([]); // reported asynchronously (queueMicrotask), after send() returned
    jest.runAllTicks();
    expect(events).toEqual(['transport error: SIP stack closed']);
  });

  it('a throwing TU callback is contained by io.safe and the transaction goes on', () => {
    const { ct, sent, thrown } = setup(false);
    const h: ClientHandlers = {
      onResponse: () => {
        throw new Error('TU bug');
      },
      onTimeout: () => undefined,
      onTransportError: () => undefined,
    };
    ct.send(request('INVITE'), h);
    ct.onResponse(response(sent[0]!.m, 486));
    expect(thrown).toEqual(['onResponse']);
    expect(sent.map((s) => s.m.method)).toEqual(['INVITE', 'ACK']);
  });
});
