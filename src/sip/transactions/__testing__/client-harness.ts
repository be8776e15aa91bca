import type { SipMessage } from 'sip';
import { DEFAULT_TIMERS, type SipTimers } from '../../sip-timers';
import type { Peer } from '../../transport';
import { ClientTransactions, type ClientHandlers } from '../client-transactions';
import { fakeTransactionIo } from './fake-io';

/** Client transactions over the fake IO, a TU that records what it is told, and requests/responses to feed them. */

export const PROXY: Peer = { address: '192.0.2.10', port: 5060 };
export const TIMERS: SipTimers = { ...DEFAULT_TIMERS, t1: 500, t2: 4000, t4: 5000, transactionTimeoutMs: 32_000, maxInviteMs: 180_000 };

export function setup(reliable = false) {
  const f = fakeTransactionIo(TIMERS, reliable);
  const ct = new ClientTransactions(f.io, { protocol: reliable ? 'TCP' : 'UDP', advertisedHost: '192.0.2.1', listenPort: 5070, outboundProxy: PROXY });
  const seen: SipMessage[] = [];
  const events: string[] = [];
  const h: ClientHandlers = {
    onResponse: (rs) => {
      seen.push(rs);
      events.push(`response ${rs.status ?? 0}`);
    },
    onTimeout: () => events.push('timeout'),
    onTransportError: (err) => events.push(`transport error: ${err.message}`),
  };
  return { ...f, ct, seen, events, h };
}

export function request(method: string, seq = 1): SipMessage {
  return {
    method,
    uri: 'sip:bob@example.com',
    headers: {
      to: { uri: 'sip:bob@example.com', params: {} },
      from: { uri: 'sip:alice@example.com', params: { tag: 'a1' } },
      'call-id': 'call-1@192.0.2.1',
      cseq: { seq, method },
      route: [{ uri: 'sip:192.0.2.10;lr', params: {} }],
      'content-length': 0,
    },
  };
}

/** A response to what we sent: our Via (branch) and CSeq, a To tag for finals. */
export function response(sent: SipMessage, status: number, toTag = 'b1'): SipMessage {
  return {
    version: '2.0',
    status,
    reason: 'Reason',
    headers: {
      via: sent.headers.via,
      to: { uri: 'sip:bob@example.com', params: status > 100 ? { tag: toTag } : {} },
      from: sent.headers.from,
      'call-id': sent.headers['call-id'],
      cseq: sent.headers.cseq,
      'content-length': 0,
    },
  };
}
