import type { SipMessage } from 'sip';
import type { Logger } from 'pino';
import type { SipTimers } from '../sip-timers';
import type { Inbound, Peer } from '../transport';

/** What the client and server transaction layers need from the stack that owns the socket. */
export interface TransactionIo {
  readonly timers: SipTimers;
  /** TCP: no retransmissions, no Timer D/J/K/I lingering (RFC 3261 §17). */
  readonly reliable: boolean;
  readonly logger: Logger;
  /** Logs, counts and writes; send errors are logged and passed to `onError`. */
  transmit(wire: Buffer, to: Peer | Inbound, m: SipMessage, onError?: (err: Error) => void, retransmission?: boolean): void;
  /** Runs a transaction user's callback; a throw is logged, never propagated into the stack. */
  safe(fn: () => void, what: string): void;
  /** Counts a Timer B/F expiry (monitoring). */
  countTimeout(method: string): void;
}
