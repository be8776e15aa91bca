import type { SipMessage } from 'sip';
import * as sip from 'sip';
import { DEFAULT_TIMERS, type SipTimers } from '../sip-timers';
import type { Inbound } from '../transport';
import { fakeTransactionIo, type Sent } from './__testing__/fake-io';
import { ServerTransactions, type ServerTransaction, type StackHandlers } from './server-transactions';

/** RFC 3261 §17.2 server transactions (and the §13.3.1.4 2xx retransmission) against a fake transport and jest's fake clock. */

const SOURCE: Inbound = { protocol: 'UDP', address: '192.0.2.10', port: 5060 };
const TIMERS: SipTimers = { ...DEFAULT_TIMERS, t1: 500, t2: 4000, t4: 5000, uasInviteGuardMs: 60_000, uasNonInviteGuardMs: 5_000 };

function setup(reliable = false, withHandlers = true) {
  const { io, sent, thrown, callbacks, logs } = fakeTransactionIo(TIMERS, reliable);
  const st = new ServerTransactions(io);
  const requests: Array<{ rq: SipMessage; tx: ServerTransaction }> = [];
  const events: string[] = [];
  const handlers: StackHandlers = {
    onRequest: (rq, tx) => {
      requests.push({ rq, tx });
      events.push(`request ${rq.method ?? ''}`);
    },
    onAck: (_rq, matched) => events.push(`ack matched=${matched}`),
    on2xxTimeout: (callId, tag) => events.push(`2xx timeout ${callId} ${tag}`),
  };
  if (withHandlers) st.setHandlers(handlers);
  return { st, sent, thrown, callbacks, logs, requests, events, handlers };
}

function request(method: string, branch = 'z9hG4bKab1', toTag?: string): SipMessage {
  return {
    method,
    uri: 'sip:gw@192.0.2.1:5070',
    headers: {
      via: [{ version: '2.0', protocol: 'UDP', host: '192.0.2.10', port: 5060, params: { branch } }],
      to: { uri: 'sip:gw@192.0.2.1', params: toTag ? { tag: toTag } : {} },
      from: { uri: 'sip:alice@example.com', params: { tag: 'a1' } },
      'call-id': 'call-9@192.0.2.10',
      cseq: { seq: 1, method: method === 'ACK' ? 'ACK' : method },
      'content-length': 0,
    },
  };
}

function answer(rq: SipMessage, status: number, tag = 'gw1'): SipMessage {
  const rs = sip.makeResponse(rq, status, 'Reason');
  if (status > 100) rs.headers.to = { ...rs.headers.to!, params: { tag } };
  return rs;
}

const statuses = (sent: Sent[]) => sent.map((s) => `${s.m.status ?? s.m.method ?? ''}${s.retransmission ? ' (re)' : ''}`);
const t0 = Date.UTC(2030, 0, 1);
beforeEach(() => jest.useFakeTimers({ now: t0 }));
afterEach(() => jest.useRealTimers());

describe('RFC 3261 §17.2.1 INVITE server transaction', () => {
  it('§17.2.1 sends 100 Trying straight away, then hands the INVITE to the TU once', () => {
    const { st, sent, events, requests } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    expect(statuses(sent)).toEqual(['100']);
    expect(sent[0]!.to).toBe(SOURCE);
    expect(events).toEqual(['request INVITE']);
    expect(requests[0]!.tx).toMatchObject({ invite: true, state: 'proceeding', source: SOURCE });
    expect(st.findById(requests[0]!.tx.id)).toBe(requests[0]!.tx);
  });

  it('§17.2.1 a retransmitted INVITE repeats the last provisional and is not passed up again', () => {
    const { st, sent, events, requests } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    st.respond(requests[0]!.tx, answer(requests[0]!.rq, 180));
    st.onRequest(request('INVITE'), SOURCE);
    expect(statuses(sent)).toEqual(['100', '180', '180 (re)']);
    expect(events).toEqual(['request INVITE']);
  });

  it('§17.2.3 a request with another branch is a new transaction', () => {
    const { st, events } = setup();
    st.onRequest(request('INVITE', 'z9hG4bK1'), SOURCE);
    st.onRequest(request('INVITE', 'z9hG4bK2'), SOURCE);
    expect(events).toEqual(['request INVITE', 'request INVITE']);
  });

  it('§17.2.1 Timer G over UDP: the non-2xx final is retransmitted at T1 doubling to T2; ACK → Confirmed stops it; Timer I (T4) then ends it', () => {
    const { st, sent, events, requests } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    expect(st.respond(requests[0]!.tx, answer(requests[0]!.rq, 486))).toBe(true);
    expect(requests[0]!.tx).toMatchObject({ state: 'completed', finalStatus: 486 });
    jest.advanceTimersByTime(15_500);
    // 486 at 0, then 500, 1500, 3500, 7500, 11500, 15500 (intervals 500, 1000, 2000, 4000, 4000, 4000)
    expect(sent.filter((s) => s.m.status === 486).map((s) => s.at - t0)).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500]);
    // a retransmitted INVITE in Completed gets the final again
    st.onRequest(request('INVITE'), SOURCE);
    expect(statuses(sent).at(-1)).toBe('486 (re)');
    const before = sent.length;
    st.onRequest(request('ACK', 'z9hG4bKab1', 'gw1'), SOURCE); // §17.1.1.3: the ACK for a non-2xx has the INVITE's branch
    expect(requests[0]!.tx.state).toBe('confirmed');
    expect(events).toEqual(['request INVITE']); // absorbed: the TU does not see this ACK
    jest.advanceTimersByTime(20_000);
    expect(sent).toHaveLength(before);
    // Confirmed absorbs ACK retransmissions until Timer I; then the key is free
    st.onRequest(request('ACK', 'z9hG4bKab1', 'gw1'), SOURCE);
    expect(events).toEqual(['request INVITE', 'ack matched=false']);
  });

  it('§17.2.1 Timer I: ACK retransmissions are absorbed for T4, then the transaction is gone', () => {
    const { st, events, requests } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    st.respond(requests[0]!.tx, answer(requests[0]!.rq, 404));
    st.onRequest(request('ACK', 'z9hG4bKab1', 'gw1'), SOURCE);
    jest.advanceTimersByTime(TIMERS.t4 - 1);
    st.onRequest(request('ACK', 'z9hG4bKab1', 'gw1'), SOURCE);
    expect(events).toEqual(['request INVITE']);
    expect(st.findById(requests[0]!.tx.id)).toBeDefined();
    jest.advanceTimersByTime(1);
    expect(requests[0]!.tx.state).toBe('terminated');
    expect(st.findById(requests[0]!.tx.id)).toBeUndefined();
  });

  it('§17.2.1 Timer I is zero over TCP and there is no Timer G', () => {
    const { st, sent, requests } = setup(true);
    st.onRequest(request('INVITE'), SOURCE);
    st.respond(requests[0]!.tx, answer(requests[0]!.rq, 603));
    jest.advanceTimersByTime(10_000);
    expect(statuses(sent)).toEqual(['100', '603']);
    st.onRequest(request('ACK', 'z9hG4bKab1', 'gw1'), SOURCE);
    expect(requests[0]!.tx.state).toBe('terminated');
  });

  it('§17.2.1 Timer H (64*T1): no ACK → retransmissions stop and the transaction ends', () => {
    const { st, sent, requests } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    st.respond(requests[0]!.tx, answer(requests[0]!.rq, 480));
    jest.advanceTimersByTime(64 * TIMERS.t1 - 1);
    expect(requests[0]!.tx.state).toBe('completed');
    const count = sent.length;
    jest.advanceTimersByTime(1);
    expect(requests[0]!.tx.state).toBe('terminated');
    jest.advanceTimersByTime(60_000);
    expect(sent).toHaveLength(count);
    expect(st.findById(requests[0]!.tx.id)).toBeUndefined();
  });

  it('§17.2.1 only one final: a second respond() sends nothing and returns false', () => {
    const { st, sent, requests } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    expect(st.respond(requests[0]!.tx, answer(requests[0]!.rq, 486))).toBe(true);
    expect(st.respond(requests[0]!.tx, answer(requests[0]!.rq, 200))).toBe(false);
    expect(statuses(sent)).toEqual(['100', '486']);
  });

  it('§13.3.1.4 / RFC 6026 §7.1 a 2xx is retransmitted T1 doubling to T2 until the ACK; INVITE retransmissions are absorbed in Accepted', () => {
    const { st, sent, events, requests } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    st.respond(requests[0]!.tx, answer(requests[0]!.rq, 200, 'gw7'));
    expect(requests[0]!.tx).toMatchObject({ state: 'accepted', localTag: 'gw7', finalStatus: 200 });
    jest.advanceTimersByTime(7_500);
    expect(sent.filter((s) => s.m.status === 200).map((s) => s.at - t0)).toEqual([0, 500, 1500, 3500, 7500]);
    st.onRequest(request('INVITE'), SOURCE); // absorbed: the 2xx retransmission is the UAS core's job
    expect(statuses(sent).at(-1)).toBe('200 (re)');
    expect(sent.at(-1)?.at).toBe(t0 + 7500);
    // the ACK for a 2xx is its own transaction (new branch), matched on Call-ID and To tag
    st.onRequest(request('ACK', 'z9hG4bKack', 'gw7'), SOURCE);
    expect(events).toEqual(['request INVITE', 'ack matched=true']);
    expect(requests[0]!.tx.state).toBe('confirmed');
    const count = sent.length;
    jest.advanceTimersByTime(64 * TIMERS.t1);
    expect(sent).toHaveLength(count);
    expect(events).toEqual(['request INVITE', 'ack matched=true']); // no 2xx timeout after the ACK
    st.onRequest(request('ACK', 'z9hG4bKack2', 'gw7'), SOURCE);
    expect(events.at(-1)).toBe('ack matched=false');
  });

  it('§13.3.1.4 the 2xx retransmission is also done over TCP (it is the UAS core, not the transaction)', () => {
    const { st, sent, requests } = setup(true);
    st.onRequest(request('INVITE'), SOURCE);
    st.respond(requests[0]!.tx, answer(requests[0]!.rq, 200));
    jest.advanceTimersByTime(TIMERS.t1);
    expect(statuses(sent)).toEqual(['100', '200', '200 (re)']);
  });

  it('§13.3.1.4 no ACK for the 2xx within 64*T1 → on2xxTimeout with Call-ID and our tag, retransmissions stop', () => {
    const { st, sent, events, requests } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    st.respond(requests[0]!.tx, answer(requests[0]!.rq, 200, 'gw9'));
    jest.advanceTimersByTime(64 * TIMERS.t1 - 1);
    expect(events).toEqual(['request INVITE']);
    jest.advanceTimersByTime(1);
    expect(events).toEqual(['request INVITE', '2xx timeout call-9@192.0.2.10 gw9']);
    expect(requests[0]!.tx.state).toBe('terminated');
    const count = sent.length;
    jest.advanceTimersByTime(60_000);
    expect(sent).toHaveLength(count);
    st.onRequest(request('ACK', 'z9hG4bKlate', 'gw9'), SOURCE);
    expect(events.at(-1)).toBe('ack matched=false');
  });

  it('an INVITE nobody answers gets 480 at the guard time; a throwing TU gets 500 at once', () => {
    const { st, sent, requests, handlers } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    jest.advanceTimersByTime(TIMERS.uasInviteGuardMs - 1);
    expect(statuses(sent)).toEqual(['100']);
    jest.advanceTimersByTime(1);
    expect(statuses(sent)).toEqual(['100', '480']);
    expect(requests[0]!.tx.finalStatus).toBe(480);
    handlers.onRequest = () => {
      throw new Error('TU bug');
    };
    st.onRequest(request('INVITE', 'z9hG4bKboom'), SOURCE);
    expect(statuses(sent).slice(2)).toEqual(['100', '500']);
  });

  it('the guard does nothing once the TU answered', () => {
    const { st, sent, requests } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    st.respond(requests[0]!.tx, answer(requests[0]!.rq, 486));
    st.onRequest(request('ACK', 'z9hG4bKab1', 'gw1'), SOURCE);
    jest.advanceTimersByTime(TIMERS.uasInviteGuardMs * 2);
    expect(statuses(sent)).toEqual(['100', '486']);
  });

  it('§9.2 findInvite finds the INVITE a CANCEL refers to by branch and sent-by', () => {
    const { st, requests } = setup();
    st.onRequest(request('INVITE', 'z9hG4bKc1'), SOURCE);
    expect(st.findInvite(request('CANCEL', 'z9hG4bKc1'))).toBe(requests[0]!.tx);
    expect(st.findInvite(request('CANCEL', 'z9hG4bKc2'))).toBeUndefined();
    const otherHost = request('CANCEL', 'z9hG4bKc1');
    otherHost.headers.via![0]!.host = '192.0.2.99';
    expect(st.findInvite(otherHost)).toBeUndefined();
  });
});

describe('RFC 3261 §17.2.2 non-INVITE server transaction', () => {
  it('§17.2.2 no 100 Trying; the final goes out once and a retransmitted request gets it again; Timer J (64*T1) then frees the key', () => {
    const { st, sent, events, requests } = setup();
    st.onRequest(request('OPTIONS'), SOURCE);
    expect(sent).toEqual([]);
    st.respond(requests[0]!.tx, answer(requests[0]!.rq, 200));
    expect(requests[0]!.tx.state).toBe('completed');
    jest.advanceTimersByTime(64 * TIMERS.t1 - 1);
    expect(statuses(sent)).toEqual(['200']); // no Timer G for non-INVITE
    st.onRequest(request('OPTIONS'), SOURCE);
    expect(statuses(sent)).toEqual(['200', '200 (re)']);
    expect(events).toEqual(['request OPTIONS']);
    jest.advanceTimersByTime(1);
    expect(requests[0]!.tx.state).toBe('terminated');
    st.onRequest(request('OPTIONS'), SOURCE);
    expect(events).toEqual(['request OPTIONS', 'request OPTIONS']);
  });

  it('§17.2.2 a retransmission before any response is absorbed silently', () => {
    const { st, sent, events } = setup();
    st.onRequest(request('BYE'), SOURCE);
    st.onRequest(request('BYE'), SOURCE);
    expect(sent).toEqual([]);
    expect(events).toEqual(['request BYE']);
  });

  it('§17.2.2 Timer J is zero over TCP', () => {
    const { st, requests } = setup(true);
    st.onRequest(request('BYE'), SOURCE);
    st.respond(requests[0]!.tx, answer(requests[0]!.rq, 200));
    expect(requests[0]!.tx.state).toBe('terminated');
  });

  it('a non-INVITE nobody answers gets 500 at its guard time', () => {
    const { st, sent } = setup();
    st.onRequest(request('INFO'), SOURCE);
    jest.advanceTimersByTime(TIMERS.uasNonInviteGuardMs - 1);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(statuses(sent)).toEqual(['500']);
  });
});

describe('server transactions without handlers, and close()', () => {
  it('without handlers a request still gets its transaction and the guard answer', () => {
    const { st, sent } = setup(false, false);
    st.onRequest(request('INVITE'), SOURCE);
    jest.advanceTimersByTime(TIMERS.uasInviteGuardMs);
    expect(statuses(sent)).toEqual(['100', '480']);
  });

  it('close() stops every timer and refuses later responses', () => {
    const { st, sent, requests } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    st.onRequest(request('INVITE', 'z9hG4bKother'), SOURCE);
    st.respond(requests[0]!.tx, answer(requests[0]!.rq, 200));
    st.close();
    jest.advanceTimersByTime(TIMERS.uasInviteGuardMs * 2);
    expect(statuses(sent)).toEqual(['100', '100', '200']);
    expect(st.respond(requests[1]!.tx, answer(requests[1]!.rq, 486))).toBe(false);
    expect(st.findById(requests[1]!.tx.id)).toBeUndefined();
  });

  it('a throwing onAck is contained', () => {
    const { st, thrown, handlers } = setup();
    handlers.onAck = () => {
      throw new Error('TU bug');
    };
    st.onRequest(request('ACK', 'z9hG4bKx', 'nobody'), SOURCE);
    expect(thrown).toEqual(['onAck']);
  });
});

describe('RFC 3261 §17.2 server transactions: edges found by mutation testing', () => {
  it('respond() says whether it sent: true for a 1xx, a non-INVITE final and a 2xx', () => {
    const { st, requests } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    st.onRequest(request('OPTIONS', 'z9hG4bKo1'), SOURCE);
    expect(st.respond(requests[0]!.tx, answer(requests[0]!.rq, 180))).toBe(true);
    expect(st.respond(requests[0]!.tx, answer(requests[0]!.rq, 200))).toBe(true);
    expect(st.respond(requests[1]!.tx, answer(requests[1]!.rq, 200))).toBe(true);
  });

  it('§17.2.1 100 Trying carries its reason phrase; the guard answers 480 Temporarily Unavailable and logs why', () => {
    const { st, sent, logs } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    expect(sent[0]!.m.reason).toBe('Trying');
    jest.advanceTimersByTime(TIMERS.uasInviteGuardMs);
    expect(sent[1]!.m).toMatchObject({ status: 480, reason: 'Temporarily Unavailable' });
    expect(logs).toEqual([expect.objectContaining({ level: 40, callId: 'call-9@192.0.2.10', method: 'INVITE', msg: 'no final response from the application in time; answering' })]);
  });

  it('a non-INVITE guard answers 500 Server Internal Error', () => {
    const { st, sent } = setup();
    st.onRequest(request('OPTIONS'), SOURCE);
    jest.advanceTimersByTime(TIMERS.uasNonInviteGuardMs);
    expect(sent[0]!.m).toMatchObject({ status: 500, reason: 'Server Internal Error' });
  });

  it('a throwing request handler is logged with the error and answered 500 Server Internal Error', () => {
    const { st, sent, logs, handlers } = setup();
    handlers.onRequest = () => {
      throw new Error('TU bug');
    };
    st.onRequest(request('BYE'), SOURCE);
    expect(sent[0]!.m).toMatchObject({ status: 500, reason: 'Server Internal Error' });
    expect(logs).toEqual([
      expect.objectContaining({ level: 40, callId: 'call-9@192.0.2.10', method: 'BYE', err: expect.objectContaining({ message: 'TU bug' }), msg: 'request handler threw; answering 500' }),
    ]);
  });

  it('§17.2.1 a 300 to an INVITE is a non-2xx final: Completed, not Accepted', () => {
    const { st, requests } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    st.respond(requests[0]!.tx, answer(requests[0]!.rq, 300));
    expect(requests[0]!.tx.state).toBe('completed');
  });

  it('RFC 6026 §7.1 an INVITE retransmission in Accepted sends nothing at all', () => {
    const { st, sent, requests } = setup();
    st.onRequest(request('INVITE'), SOURCE);
    st.respond(requests[0]!.tx, answer(requests[0]!.rq, 200));
    const count = sent.length;
    st.onRequest(request('INVITE'), SOURCE);
    expect(sent).toHaveLength(count);
  });

  it('§17.2.3 the method is part of the key: an OPTIONS with an INVITE’s branch is a new transaction', () => {
    const { st, events } = setup();
    st.onRequest(request('INVITE', 'z9hG4bKsame'), SOURCE);
    st.onRequest(request('OPTIONS', 'z9hG4bKsame'), SOURCE);
    expect(events).toEqual(['request INVITE', 'request OPTIONS']);
  });

  it('a stale transaction object cannot answer a new transaction that reuses its key', () => {
    const { st, sent, requests } = setup();
    st.onRequest(request('OPTIONS'), SOURCE);
    st.respond(requests[0]!.tx, answer(requests[0]!.rq, 200));
    jest.advanceTimersByTime(64 * TIMERS.t1); // Timer J: the key is free
    st.onRequest(request('OPTIONS'), SOURCE);
    expect(requests).toHaveLength(2);
    const count = sent.length;
    expect(st.respond(requests[0]!.tx, answer(requests[0]!.rq, 486))).toBe(false);
    expect(sent).toHaveLength(count);
    expect(st.respond(requests[1]!.tx, answer(requests[1]!.rq, 200))).toBe(true);
  });

  it('after close() a new INVITE gets no 100 Trying', () => {
    const { st, sent } = setup();
    st.close();
    st.onRequest(request('INVITE'), SOURCE);
    expect(sent).toEqual([]);
  });

  it('without handlers the 2xx timeout and an ACK are dropped quietly (no callback throws)', () => {
    const { st, thrown, callbacks } = setup(false, false);
    st.onRequest(request('INVITE'), SOURCE);
    const tx = st.findInvite(request('CANCEL'))!;
    st.respond(tx, answer(tx.request, 200));
    jest.advanceTimersByTime(64 * TIMERS.t1);
    st.onRequest(request('ACK', 'z9hG4bKack', 'gw1'), SOURCE);
    expect(callbacks).toEqual(['on2xxTimeout', 'onAck']);
    expect(thrown).toEqual([]);
  });
});
