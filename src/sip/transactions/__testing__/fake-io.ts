import pino from 'pino';
import type { SipMessage } from 'sip';
import { decodeMessage } from '../../wire';
import type { SipTimers } from '../../sip-timers';
import type { Inbound, Peer } from '../../transport';
import type { TransactionIo } from '../transaction-io';

/** What the transaction layer wrote, decoded again, with the fake clock's time. */
export interface Sent {
  at: number;
  m: SipMessage;
  to: Peer | Inbound;
  retransmission: boolean;
  onError?: (err: Error) => void;
}

/** One log line the layer wrote: pino's JSON (`msg`, `level`, and the bound fields). */
export type LogLine = Record<string, unknown> & { msg: string; level: number };

/**
 * A fake of the socket side of the transaction layers: records every write (parsed back, so an
 * unparsable message fails the test), every TU callback run through `safe` (and those that threw),
 * Timer B/F counts, and the log lines (debug and up).
 */
export function fakeTransactionIo(timers: SipTimers, reliable: boolean) {
  const sent: Sent[] = [];
  const timeouts: string[] = [];
  const callbacks: string[] = [];
  const thrown: string[] = [];
  const logs: LogLine[] = [];
  const io: TransactionIo = {
    timers,
    reliable,
    logger: pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as LogLine) }),
    transmit(wire, to, _m, onError, retransmission) {
      const m = decodeMessage(wire);
      if (!m) throw new Error('the transaction layer wrote an unparsable message');
      sent.push({ at: Date.now(), m, to, retransmission: retransmission === true, onError });
    },
    safe(fn, what) {
      callbacks.push(what);
      try {
        fn();
      } catch {
        thrown.push(what);
      }
    },
    countTimeout: (method) => timeouts.push(method),
  };
  return { io, sent, timeouts, callbacks, thrown, logs };
}
