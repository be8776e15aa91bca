import { request, response, setup, TIMERS } from './__testing__/client-harness';

/** RFC 3261 §17.1 client transactions: the cases mutation testing showed missing (fake transport, fake clock). */

const t0 = Date.UTC(2030, 0, 1);
beforeEach(() => jest.useFakeTimers({ now: t0 }));
afterEach(() => jest.useRealTimers());

describe('RFC 3261 §17.1 client transactions: edges found by mutation testing', () => {
  it('§17.1.2.2 a non-INVITE 1xx keeps the transaction in Proceeding: the final that follows is passed up', () => {
    const { ct, sent, h, events, callbacks } = setup(false);
    ct.send(request('BYE'), h);
    ct.onResponse(response(sent[0]!.m, 100));
    ct.onResponse(response(sent[0]!.m, 200));
    expect(events).toEqual(['response 100', 'response 200']);
    expect(callbacks).toEqual(['onResponse', 'onResponse']);
  });

  it('§17.1.4 a transport error on a retransmission in Proceeding is reported and ends the transaction', () => {
    const { ct, sent, h, events, callbacks } = setup(false);
    ct.send(request('OPTIONS'), h);
    ct.onResponse(response(sent[0]!.m, 100));
    jest.advanceTimersByTime(TIMERS.t1);
    expect(sent[1]!.retransmission).toBe(true);
    sent[1]!.onError?.(new Error('EHOSTUNREACH'));
    expect(events).toEqual(['response 100', 'transport error: EHOSTUNREACH']);
    expect(callbacks).toEqual(['onResponse', 'onTransportError']);
    jest.advanceTimersByTime(TIMERS.transactionTimeoutMs);
    expect(sent).toHaveLength(2);
  });

  it('Timer B names its callback and counts the method', () => {
    const { ct, h, callbacks, timeouts } = setup(true);
    ct.send(request('INVITE'), h);
    jest.advanceTimersByTime(TIMERS.transactionTimeoutMs);
    expect(callbacks).toEqual(['onTimeout']);
    expect(timeouts).toEqual(['INVITE']);
  });

  it('the Proceeding guard runs from the first 1xx: later 1xx do not restart it', () => {
    const { ct, sent, h, events } = setup(false);
    ct.send(request('INVITE'), h);
    ct.onResponse(response(sent[0]!.m, 100));
    jest.advanceTimersByTime(100_000);
    ct.onResponse(response(sent[0]!.m, 180));
    jest.advanceTimersByTime(TIMERS.maxInviteMs - 100_000);
    expect(events).toEqual(['response 100', 'response 180', 'timeout']);
  });

  it('§17.1.1.3 a 300 is a non-2xx final: ACKed by the transaction, not Accepted', () => {
    const { ct, sent, h, events } = setup(false);
    ct.send(request('INVITE'), h);
    ct.onResponse(response(sent[0]!.m, 300));
    expect(sent.map((s) => s.m.method)).toEqual(['INVITE', 'ACK']);
    expect(events).toEqual(['response 300']);
  });

  it('RFC 6026 §7.2 a non-2xx from another fork after a 2xx is neither ACKed nor passed up', () => {
    const { ct, sent, h, events, callbacks } = setup(false);
    ct.send(request('INVITE'), h);
    ct.onResponse(response(sent[0]!.m, 200, 'fork1'));
    ct.onResponse(response(sent[0]!.m, 486, 'fork2'));
    expect(sent).toHaveLength(1);
    expect(events).toEqual(['response 200']);
    expect(callbacks).toEqual(['onResponse']);
  });

  it('a Via given verbatim without a branch yields an empty branch, not undefined', () => {
    const { ct, h } = setup(false);
    expect(ct.send(request('CANCEL'), h, { via: 'SIP/2.0/UDP 192.0.2.1:5070' })).toEqual({ branch: '', via: 'SIP/2.0/UDP 192.0.2.1:5070' });
  });

  it('after close() send() still answers with the Via it wrote', () => {
    const { ct, h } = setup(false);
    ct.close();
    const r = ct.send(request('OPTIONS'), h);
    expect(r.branch).toMatch(/^z9hG4bK/);
    expect(r.via).toBe(`SIP/2.0/UDP 192.0.2.1:5070;branch=${r.branch};rport`);
  });

  it('§17.1.3 a response without CSeq matches nothing and is logged at debug with its Call-ID and status', () => {
    const { ct, sent, h, events, logs } = setup(false);
    ct.send(request('INVITE'), h);
    const rs = response(sent[0]!.m, 200);
    delete rs.headers.cseq;
    expect(() => ct.onResponse(rs)).not.toThrow();
    expect(events).toEqual([]);
    expect(logs).toEqual([expect.objectContaining({ level: 20, callId: 'call-1@192.0.2.1', status: 200, msg: 'SIP response matches no transaction; dropped' })]);
  });

  it('§17.1.1.3 an INVITE with an empty route set gets an ACK without Route', () => {
    const { ct, sent, h } = setup(false);
    const rq = request('INVITE');
    rq.headers.route = [];
    ct.send(rq, h);
    ct.onResponse(response(sent[0]!.m, 404));
    expect(sent[1]!.m.headers.route).toBeUndefined();
  });

  it('forgets terminated transactions (no growth over many requests)', () => {
    const { ct, sent, h } = setup(false);
    for (let i = 0; i < 50; i++) {
      ct.send(request('OPTIONS', i + 1), h);
      ct.onResponse(response(sent.at(-1)!.m, 200));
    }
    jest.advanceTimersByTime(TIMERS.t4);
    expect((ct as unknown as { clients: Map<string, unknown> }).clients.size).toBe(0);
  });

  it('§17.1.2.2 Timer E fired in Proceeding is reset to T2, not doubled', () => {
    const { ct, sent, h } = setup(false);
    ct.send(request('OPTIONS'), h);
    jest.advanceTimersByTime(600); // the first retransmission went at T1 = 500; the next is due at 1500
    ct.onResponse(response(sent[0]!.m, 100));
    jest.advanceTimersByTime(10_000 - 600);
    // 1500 (the armed timer), then every T2 = 4000: 5500, 9500
    expect(sent.map((s) => s.at - t0)).toEqual([0, 500, 1500, 5500, 9500]);
  });

  it('an INVITE 1xx names its callback', () => {
    const { ct, sent, h, callbacks } = setup(false);
    ct.send(request('INVITE'), h);
    ct.onResponse(response(sent[0]!.m, 180));
    expect(callbacks).toEqual(['onResponse']);
  });
});

describe('client transactions: one timer per transaction', () => {
  it('UDP INVITE: one pending timer in Calling (A, then B), in Proceeding and in Accepted; none once terminated', () => {
    const { ct, sent, h } = setup(false);
    ct.send(request('INVITE'), h);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(TIMERS.t1);
    expect(sent).toHaveLength(2); // Timer A fired and re-armed itself
    expect(jest.getTimerCount()).toBe(1);
    ct.onResponse(response(sent[0]!.m, 180));
    expect(jest.getTimerCount()).toBe(1);
    ct.onResponse(response(sent[0]!.m, 200));
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(64 * TIMERS.t1); // Timer M
    expect(jest.getTimerCount()).toBe(0);
  });

  it('UDP non-INVITE: retransmissions continue in Proceeding and Timer F still fires at 64*T1 from the send', () => {
    const { ct, sent, h, events } = setup(false);
    ct.send(request('BYE'), h);
    expect(jest.getTimerCount()).toBe(1);
    ct.onResponse(response(sent[0]!.m, 100));
    jest.advanceTimersByTime(TIMERS.transactionTimeoutMs - 1);
    expect(sent.length).toBeGreaterThan(2);
    expect(events).toEqual(['response 100']);
    jest.advanceTimersByTime(1);
    expect(events).toEqual(['response 100', 'timeout']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('TCP: one timer (Timer B) and no retransmission', () => {
    const { ct, sent, h, events } = setup(true);
    ct.send(request('INVITE'), h);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(TIMERS.transactionTimeoutMs);
    expect(sent).toHaveLength(1);
    expect(events).toEqual(['timeout']);
  });
});
