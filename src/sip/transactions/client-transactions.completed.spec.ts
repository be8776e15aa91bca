import { ClientTransactions } from './client-transactions';
import { fakeTransactionIo } from './__testing__/fake-io';
import { PROXY, request, response, setup, TIMERS } from './__testing__/client-harness';

/**
 * RFC 3261 §17.1 client transactions after the single-timer and release changes: what a
 * transaction in Completed or Accepted does with further responses, and where the deadline falls.
 */

const t0 = Date.UTC(2030, 0, 1);
beforeEach(() => jest.useFakeTimers({ now: t0 }));
afterEach(() => jest.useRealTimers());

describe('RFC 3261 §17.1 client transactions: responses after a final', () => {
  const rows: { name: string; method: string; first: number; later: number[]; sentMethods: string[]; events: string[]; callbacks: number }[] = [
    // §17.1.2.2: Completed absorbs retransmitted finals, none is passed up again
    { name: '§17.1.2.2 non-INVITE: a retransmitted 200 in Completed is absorbed', method: 'OPTIONS', first: 200, later: [200], sentMethods: ['OPTIONS'], events: ['response 200'], callbacks: 1 },
    { name: '§17.1.2.2 non-INVITE: a 180 after the final is absorbed', method: 'MESSAGE', first: 404, later: [180], sentMethods: ['MESSAGE'], events: ['response 404'], callbacks: 1 },
    // §17.1.1.2 / RFC 6026 §7.2: a late 2xx in Completed neither moves to Accepted nor reaches the TU; the final's retransmission is still re-ACKed
    {
      name: '§17.1.1.2 INVITE: a 2xx in Completed is dropped, the retransmitted 486 re-ACKed',
      method: 'INVITE',
      first: 486,
      later: [200, 486],
      sentMethods: ['INVITE', 'ACK', 'ACK'],
      events: ['response 486'],
      callbacks: 1,
    },
    // RFC 6026 §7.2: Accepted passes 2xx up, a late 1xx is not
    {
      name: 'RFC 6026 §7.2 INVITE: a 1xx in Accepted is not passed up',
      method: 'INVITE',
      first: 200,
      later: [180, 200],
      sentMethods: ['INVITE'],
      events: ['response 200', 'response 200'],
      callbacks: 2,
    },
  ];

  it.each(rows)('$name', ({ method, first, later, sentMethods, events: expected, callbacks: n }) => {
    const { ct, sent, h, events, callbacks } = setup(false);
    ct.send(request(method), h);
    ct.onResponse(response(sent[0]!.m, first));
    for (const status of later) ct.onResponse(response(sent[0]!.m, status));
    expect(sent.map((s) => s.m.method)).toEqual(sentMethods);
    expect(events).toEqual(expected);
    expect(callbacks).toHaveLength(n);
  });

  it.each([
    { name: 'non-INVITE in Completed', method: 'OPTIONS', status: 200 },
    { name: 'INVITE in Completed', method: 'INVITE', status: 486 },
    { name: 'INVITE in Accepted', method: 'INVITE', status: 200 },
  ])('§17.1.4 a late transport error of the first send is not reported after a final ($name)', ({ method, status }) => {
    const { ct, sent, h, events, callbacks } = setup(false);
    ct.send(request(method), h);
    ct.onResponse(response(sent[0]!.m, status));
    sent[0]!.onError?.(new Error('EPIPE'));
    expect(events).toEqual([`response ${status}`]);
    expect(callbacks).toEqual(['onResponse']);
  });

  it('§17.1.4 positive control: the same transport error before a final is reported', () => {
    const { ct, sent, h, events } = setup(false);
    ct.send(request('OPTIONS'), h);
    sent[0]!.onError?.(new Error('EPIPE'));
    expect(events).toEqual(['transport error: EPIPE']);
  });

  it('§17.1.2.2 Timer K is not restarted by a retransmitted final: the transaction ends T4 after the first', () => {
    const { ct, sent, h, logs } = setup(false);
    ct.send(request('OPTIONS'), h);
    ct.onResponse(response(sent[0]!.m, 200));
    jest.advanceTimersByTime(TIMERS.t4 - 1);
    ct.onResponse(response(sent[0]!.m, 200));
    expect(logs).toEqual([]); // positive control: still matched at T4 - 1
    jest.advanceTimersByTime(1);
    ct.onResponse(response(sent[0]!.m, 200));
    expect(logs).toEqual([expect.objectContaining({ msg: 'SIP response matches no transaction; dropped', status: 200 })]);
  });
});

describe('RFC 3261 §17.1.2.2 Timer E against Timer F: a retransmission due at the deadline gives way to the timeout', () => {
  const rows = [
    // t1 100, F 300: retransmit at 100; the next (200 later) would fall at 300 = F, so F fires alone
    { t1: 100, timeoutMs: 300, sentAt: [0, 100] },
    // t1 100, F 301: the retransmission at 300 still comes before F
    { t1: 100, timeoutMs: 301, sentAt: [0, 100, 300] },
  ];
  it.each(rows)('T1 $t1, Timer F $timeoutMs → sent at $sentAt, then one timeout', ({ t1, timeoutMs, sentAt }) => {
    const timers = { ...TIMERS, t1, transactionTimeoutMs: timeoutMs };
    const f = fakeTransactionIo(timers, false);
    const ct = new ClientTransactions(f.io, { protocol: 'UDP', advertisedHost: '192.0.2.1', listenPort: 5070, outboundProxy: PROXY });
    const events: string[] = [];
    ct.send(request('OPTIONS'), { onResponse: () => events.push('response'), onTimeout: () => events.push(`timeout at ${Date.now() - t0}`), onTransportError: () => events.push('error') });
    jest.advanceTimersByTime(timeoutMs + 10_000);
    expect(f.sent.map((s) => s.at - t0)).toEqual(sentAt);
    expect(events).toEqual([`timeout at ${timeoutMs}`]);
  });
});
