/**
 * The media session state machine (CAMARA `SessionStatus`), pure: no I/O, no clock, no logger.
 *
 * Outgoing call (we are the UAC):
 *
 *   Initial ──18x──▶ Ringing ──2xx──▶ Connected ──BYE (either side)──▶ Terminated
 *      │  └─183+SDP─▶ InProgress ─18x/2xx─┘   │ ▲
 *      │                                      Hold/Resume (re-INVITE, next issue)
 *      └─ final ≥ 300, CANCEL, timeout ─▶ Busy | Declined | NotReachable | NoAnswer
 *                                          | SessionCancelled | Failed
 *
 * Incoming call (we are the UAS): Initial ─app: Ringing/InProgress─▶ … ─app: Connected + ACK─▶ Connected.
 *
 * Misfits: a network signal that does not fit (a late 180 after the 200, a retransmission) is
 * ignored; a client request that does not fit gets 409 INCOMPATIBLE_STATE (decided by the service).
 */
import { EARLY_STATUSES, FINAL_STATUSES, isFinal, SESSION_STATUSES, SessionStatus } from '../domain/media-session-status';

export { EARLY_STATUSES, ESTABLISHED_STATUSES, FINAL_STATUSES, isFinal, SESSION_STATUSES } from '../domain/media-session-status';
export type { SessionStatus };

/** What the network (or a timer) says about an outgoing INVITE. */
export type NetworkSignal =
  | { kind: 'provisional'; code: number; hasSdp: boolean }
  | { kind: 'answered'; code: number }
  | { kind: 'rejected'; code: number; cancelledBy?: 'client' | 'ring-timeout' }
  | { kind: 'timeout' }
  | { kind: 'transport' }
  | { kind: 'remote-bye' };

export type Transition = { next: SessionStatus; storeAnswer: boolean } | { ignore: string };

/**
 * Final answers that are call outcomes, not failures (RFC 3261 §21). Anything ≥ 300 not listed
 * here is `Failed`.
 */
export const FINAL_RESPONSE_STATUS: Readonly<Record<number, SessionStatus>> = {
  486: 'Busy', // Busy Here
  600: 'Busy', // Busy Everywhere
  603: 'Declined', // Decline
  404: 'NotReachable', // Not Found
  410: 'NotReachable', // Gone
  480: 'NotReachable', // Temporarily Unavailable (e.g. subscriber not registered)
  484: 'NotReachable', // Address Incomplete
  604: 'NotReachable', // Does Not Exist Anywhere
  408: 'NoAnswer', // Request Timeout
};

export function statusForFinalResponse(code: number, cancelledBy?: 'client' | 'ring-timeout'): SessionStatus {
  // RFC 3261 §9.1: the INVITE we CANCELled completes with 487 Request Terminated.
  if (code === 487 && cancelledBy === 'ring-timeout') return 'NoAnswer';
  if (code === 487 && cancelledBy === 'client') return 'SessionCancelled';
  return FINAL_RESPONSE_STATUS[code] ?? 'Failed';
}

/** Next status of an outgoing call after a network signal. */
export function onNetworkSignal(current: SessionStatus, signal: NetworkSignal): Transition {
  if (isFinal(current)) return { ignore: `session already ${current}` };
  switch (signal.kind) {
    case 'provisional': {
      if (!EARLY_STATUSES.has(current)) return { ignore: `late ${signal.code} while ${current}` };
      if (signal.code === 100) return { ignore: '100 Trying changes nothing' };
      if (signal.code === 183 && signal.hasSdp) return { next: 'InProgress', storeAnswer: true };
      if (signal.code === 180 || signal.code === 181 || signal.code === 182) {
        return current === 'Ringing' ? { ignore: `repeated ${signal.code}` } : { next: 'Ringing', storeAnswer: signal.hasSdp };
      }
      return { ignore: `${signal.code} without session description changes nothing` };
    }
    case 'answered':
      if (!EARLY_STATUSES.has(current)) return { ignore: `retransmitted ${signal.code} while ${current}` };
      return { next: 'Connected', storeAnswer: true };
    case 'rejected':
      if (!EARLY_STATUSES.has(current)) return { ignore: `final ${signal.code} after the session was established` };
      return { next: statusForFinalResponse(signal.code, signal.cancelledBy), storeAnswer: false };
    case 'timeout':
      // Timer B: no final answer from the network at all (RFC 3261 §17.1.1.2) is a failure;
      // the ring timeout is a CANCEL whose 487 maps to NoAnswer.
      return EARLY_STATUSES.has(current) ? { next: 'Failed', storeAnswer: false } : { ignore: 'timeout after establishment' };
    case 'transport':
      return { next: 'Failed', storeAnswer: false };
    case 'remote-bye':
      return { next: 'Terminated', storeAnswer: false };
    default:
      return assertNever(signal);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}
