import { PHASE, SessionStatus } from '../domain/media-session-status';
import type { MediaChange, ModifyResult, RejectCause } from '../sip/sip-gateway';

export { EARLY_STATUSES, ESTABLISHED_STATUSES, FINAL_STATUSES, isFinal, PHASE, SESSION_STATUSES } from '../domain/media-session-status';
export type { SessionStatus };

/**
 * The media session state machine (CAMARA `SessionStatus`), pure: no I/O, no clock, no logger.
 * Every decision about a call is taken here: `onEvent(session, event)` returns the next status and
 * the actions to take, and the use cases in this folder only load, persist, act and report.
 *
 * Outgoing call (we are the UAC):
 *
 *   Initial ──18x──▶ Ringing ──2xx──▶ Connected ◀──resume── Hold ──BYE (either side)──▶ Terminated
 *      │  └─183+SDP─▶ InProgress ─18x/2xx─┘   └───hold (re-INVITE, either side)──▶┘
 *      └─ final ≥ 300, CANCEL, ring timeout, Timer B ─▶ Busy | Declined | NotReachable | NoAnswer
 *                                                       | SessionCancelled | Failed
 *
 * Incoming call (we are the UAS):
 *
 *   Initial ─app Ringing (180) / InProgress (183)─▶ Ringing | InProgress ─app Connected (200) + ACK─▶ Connected
 *      └─ app Declined / DELETE (603), caller CANCEL (487), ring timeout (480), no ACK (BYE) ─▶ Declined
 *                                                       | SessionCancelled | NoAnswer | Failed
 *   Offerless INVITE: the app's Connected carries an `offer` (sent in the 200); the ACK's SDP is the
 *   answer; an ACK without one → Failed (BYE).
 *
 * Either direction, RFC 4028 session timer: Connected | Hold | Resume ──no refresh by the expiry,
 * or the refresh answered 408/481 / timed out (BYE)──▶ Terminated
 *
 * Misfits (STYLE.md): a network signal that does not fit (a late 180 after the 200, a
 * retransmission) is ignored; an app request that does not fit is refused (409 / 400 / 502);
 * an event our own code should never produce here throws.
 */

/** The facts about a session the machine decides on. */
export interface SessionView {
  status: SessionStatus;
  direction: 'outgoing' | 'incoming';
  /** Why we sent a CANCEL, so that its 487 maps to the right status. */
  cancelledBy?: 'client' | 'ring-timeout';
  /** The far end's tag is known (early or confirmed dialog): in-dialog requests are possible. */
  hasRemoteTag: boolean;
  /** Our side's current SDP is known (to hold, resume or answer a re-offer). */
  hasLocalSdp: boolean;
  /** The app answered an incoming call (200 sent, ACK awaited). */
  answered: boolean;
  /** This instance holds the incoming INVITE transaction, so it can still answer it. */
  holdsInvite: boolean;
  /**
   * The incoming INVITE carried no offer (3PCC, click-to-dial): the app offers in our 200 and the
   * ACK carries the answer (RFC 3261 §13.2.1, RFC 3264 §4).
   */
  offerless: boolean;
}

/** Something that happened to a session: a network signal, an app request or a timer. */
export type SessionEvent =
  // --- the network, about the INVITE we sent
  | { kind: 'provisional'; code: number; reason: string; hasSdp: boolean }
  | { kind: 'answered'; code: number; reason: string }
  | { kind: 'rejected'; code: number; reason: string }
  /** Timer B: no final answer at all (RFC 3261 §17.1.1.2). */
  | { kind: 'no-final-answer' }
  | { kind: 'transport-failure'; message: string }
  // --- the network, about an incoming INVITE or a dialog
  | { kind: 'caller-cancelled' }
  /** The ACK for our 2xx; `hasSdp` when it carries the answer to an offer we made in the 2xx. */
  | { kind: 'ack'; hasSdp: boolean }
  /** Our 2xx was never ACKed; the SIP layer already sent BYE (RFC 3261 §13.3.1.4). */
  | { kind: 'no-ack' }
  | { kind: 'remote-bye' }
  /** A re-INVITE/UPDATE from the far end: `holds` when every stream goes sendonly/inactive (RFC 3264 §8.4). */
  | { kind: 'remote-offer'; method: 'INVITE' | 'UPDATE'; offer: 'none' | 'holds' | 'active' }
  /** The ACK's answer to the offer we made in the 2xx to an offerless re-INVITE (RFC 3261 §14.2). */
  | { kind: 'remote-answer'; holds: boolean }
  /** The answer to the new media we offered (`modify`). */
  | { kind: 'modified'; change: MediaChange['kind']; method: 'INVITE' | 'UPDATE'; outcome: ModifyResult['outcome']; code: number; reason: string }
  // --- the app
  | { kind: 'app-delete' }
  | { kind: 'app-status'; status: SessionStatus; hasOffer: boolean; hasAnswer: boolean; hasLocation: boolean }
  // --- timers
  | { kind: 'ring-timeout' }
  /** RFC 4028 §10: no session refresh arrived or succeeded in time (`why` names which). */
  | { kind: 'session-expired'; why: string }
  // --- the cluster
  /** The instance holding the session's transactions and timers is gone (lease lapsed) or draining; `why` names it. */
  | { kind: 'owner-lost'; why: string };

/** What to do on the network once the decision is stored. */
export type Action =
  /** CANCEL a pending INVITE or BYE a confirmed dialog (the SIP port picks). */
  | { kind: 'hang-up' }
  | { kind: 'progress'; progress: 'ringing' | 'session-progress' }
  /** 200 with the app's answer to the incoming INVITE. */
  | { kind: 'answer' }
  | { kind: 'reject'; cause: RejectCause }
  /** Offer new media (re-INVITE, or UPDATE in an early dialog). */
  | { kind: 'modify'; change: MediaChange['kind'] }
  | { kind: 'send-location' }
  /** 200 to the far end's offer with our answer (or our offer when it sent none). */
  | { kind: 'accept-offer' }
  /** 491 to the far end's offer (RFC 3261 §14.2). */
  | { kind: 'offer-pending' };

/** An app request that does not fit: the CAMARA error to answer with. */
export interface Refusal {
  error: 'INCOMPATIBLE_STATE' | 'INVALID_ARGUMENT' | 'BAD_GATEWAY';
  message: string;
}

export type Decision =
  | { kind: 'ignore'; why: string }
  | { kind: 'refuse'; refusal: Refusal }
  | {
      kind: 'go';
      /** The next status (the same one when only media or nothing changes). */
      next: SessionStatus;
      /** SIP code and reason to store with the status. */
      code?: number;
      reason?: string;
      /** Report a session-status event (always on a status change; also for new media). */
      report: boolean;
      /** Keep the SDP the far end sent with this signal as the answer. */
      storeAnswer?: boolean;
      cancelledBy?: 'client' | 'ring-timeout';
      /** The app deleted the session: GET answers 404 from now on. */
      deleted?: boolean;
      actions: readonly Action[];
      /** The app request still fails after the change is stored. */
      fail?: Refusal;
    };

/** Final answers that are call outcomes, not failures (RFC 3261 §21); any other ≥ 300 is `Failed`. */
export type OutcomeCode = 404 | 408 | 410 | 480 | 484 | 486 | 600 | 603 | 604;
export const FINAL_RESPONSE_STATUS = {
  486: 'Busy', // Busy Here
  600: 'Busy', // Busy Everywhere
  603: 'Declined', // Decline
  404: 'NotReachable', // Not Found
  410: 'NotReachable', // Gone
  480: 'NotReachable', // Temporarily Unavailable (e.g. subscriber not registered)
  484: 'NotReachable', // Address Incomplete
  604: 'NotReachable', // Does Not Exist Anywhere
  408: 'NoAnswer', // Request Timeout
} as const satisfies Record<OutcomeCode, SessionStatus>;

const isOutcomeCode = (code: number): code is OutcomeCode => code in FINAL_RESPONSE_STATUS;

export function statusForFinalResponse(code: number, cancelledBy?: 'client' | 'ring-timeout'): SessionStatus {
  // RFC 3261 §9.1: the INVITE we CANCELled completes with 487 Request Terminated.
  if (code === 487 && cancelledBy === 'ring-timeout') return 'NoAnswer';
  if (code === 487 && cancelledBy === 'client') return 'SessionCancelled';
  return isOutcomeCode(code) ? FINAL_RESPONSE_STATUS[code] : 'Failed';
}

/** What an app's status request turns into on an incoming call that is still ringing. */
const ANSWERING = {
  Ringing: 'progress',
  InProgress: 'progress',
  Connected: 'answer',
  Declined: 'decline',
} as const;

const go = (next: SessionStatus, fields: Partial<Omit<Extract<Decision, { kind: 'go' }>, 'kind' | 'next'>> = {}): Decision => ({
  kind: 'go',
  next,
  report: false,
  actions: [],
  ...fields,
});
const change = (from: SessionView, next: SessionStatus, fields: Partial<Omit<Extract<Decision, { kind: 'go' }>, 'kind' | 'next'>> = {}): Decision =>
  go(next, { report: next !== from.status, ...fields });
const ignore = (why: string): Decision => ({ kind: 'ignore', why });
const refuse = (error: Refusal['error'], message: string): Decision => ({ kind: 'refuse', refusal: { error, message } });

/** The next status of a session and what to do, for any event. */
export function onEvent(s: SessionView, e: SessionEvent): Decision {
  switch (e.kind) {
    case 'provisional':
    case 'answered':
    case 'rejected':
    case 'no-final-answer':
    case 'transport-failure':
      return onInviteResponse(s, e);
    case 'caller-cancelled':
      return PHASE[s.status] === 'early' ? change(s, 'SessionCancelled', { code: 487, reason: 'CANCEL from the caller' }) : ignore(`CANCEL while ${s.status}`);
    case 'ack':
      if (PHASE[s.status] !== 'early' || !s.answered) return ignore(`ACK while ${s.status}`);
      // RFC 3261 §13.2.1 / §13.3.1.4: our 2xx carried the offer, so the ACK must carry the answer; without one the session cannot start.
      if (s.offerless && !e.hasSdp) return change(s, 'Failed', { reason: 'the ACK carried no answer to our offer', actions: [{ kind: 'hang-up' }] });
      return change(s, 'Connected', { code: 200, reason: 'OK', storeAnswer: s.offerless });
    case 'no-ack':
      if (PHASE[s.status] !== 'early' || !s.answered) return ignore(`missing ACK while ${s.status}`);
      return change(s, 'Failed', { reason: 'no ACK for the 2xx' });
    case 'remote-bye':
      return PHASE[s.status] === 'final' ? ignore(`BYE while ${s.status}`) : change(s, 'Terminated', { reason: 'BYE from the far end' });
    case 'remote-offer':
      return onRemoteOffer(s, e);
    case 'remote-answer': {
      if (PHASE[s.status] !== 'established') return ignore(`answer in an ACK while ${s.status}`);
      const next: SessionStatus = e.holds ? 'Hold' : s.status === 'Hold' ? 'Resume' : s.status;
      return go(next, { reason: 'answer in the ACK', report: true, storeAnswer: true });
    }
    case 'modified':
      return onModified(s, e);
    case 'app-delete':
      return onDelete(s);
    case 'app-status':
      return onAppStatus(s, e);
    case 'ring-timeout':
      if (PHASE[s.status] !== 'early') return ignore(`ring timeout while ${s.status}`);
      if (s.direction === 'incoming') {
        // RFC 3261 §13.3.1.4: once our 2xx is sent, only its ACK or the 64·T1 without one decides
        if (s.answered) return ignore('ring timeout after the app answered: the ACK is awaited');
        return change(s, 'NoAnswer', { code: 480, reason: 'the app did not answer within the ring timeout', actions: [{ kind: 'reject', cause: 'unavailable' }] });
      }
      if (s.cancelledBy) return ignore('already cancelled');
      // The app learns NoAnswer at once; the CANCEL's 487 then changes nothing.
      return change(s, 'NoAnswer', { reason: 'no answer within the ring timeout', cancelledBy: 'ring-timeout', actions: [{ kind: 'hang-up' }] });
    case 'session-expired':
      // RFC 4028 §10: the session is over for the network; BYE makes it so for the far end too
      if (PHASE[s.status] !== 'established') return ignore(`session timer expiry while ${s.status}`);
      return change(s, 'Terminated', { reason: `session timer expired: ${e.why}`, actions: [{ kind: 'hang-up' }] });
    case 'owner-lost':
      return onOwnerLost(s, e.why);
    default:
      return assertNever(e);
  }
}

type InviteResponse = Extract<SessionEvent, { kind: 'provisional' | 'answered' | 'rejected' | 'no-final-answer' | 'transport-failure' }>;

/**
 * The instance that held the session's transactions is gone. An established call goes on (the
 * dialog is in the store: any instance can re-INVITE or BYE). A call in setup cannot be finished
 * elsewhere: ours is CANCELled (RFC 3261 §9.1, from the stored INVITE data); an incoming INVITE not
 * answered yet gets 480 (§21.4.18: the callee was reached but cannot take the call now, a retry may
 * succeed) from the instance that still holds it (drain), or from the adopting one out of the INVITE
 * stored with the dialog (§18.2.2). Either way `Failed`, reported.
 */
function onOwnerLost(s: SessionView, why: string): Decision {
  const phase = PHASE[s.status];
  if (phase === 'final') return ignore(`owner lost while ${s.status}`);
  if (phase === 'established') return go(s.status);
  if (s.direction === 'outgoing') return change(s, 'Failed', { reason: why, actions: [{ kind: 'hang-up' }] });
  return change(s, 'Failed', { reason: why, actions: !s.answered ? [{ kind: 'reject', cause: 'unavailable' }] : [] });
}

function onInviteResponse(s: SessionView, e: InviteResponse): Decision {
  if (PHASE[s.status] === 'final') {
    // RFC 3261 §9.1/§15: a 2xx that crossed our CANCEL (or came after the ring timeout) is ACKed
    // by the SIP layer, and the dialog it made is ended with BYE.
    return e.kind === 'answered' ? go(s.status, { reason: '2xx for an ended session', actions: [{ kind: 'hang-up' }] }) : ignore(`session already ${s.status}`);
  }
  const early = PHASE[s.status] === 'early';
  switch (e.kind) {
    case 'provisional':
      if (!early) return ignore(`late ${e.code} while ${s.status}`);
      if (e.code === 100) return ignore('100 Trying changes nothing');
      if (e.code === 183 && e.hasSdp) return change(s, 'InProgress', { code: e.code, reason: e.reason, storeAnswer: true });
      if (e.code === 180 || e.code === 181 || e.code === 182) {
        return s.status === 'Ringing' ? ignore(`repeated ${e.code}`) : change(s, 'Ringing', { code: e.code, reason: e.reason, storeAnswer: e.hasSdp });
      }
      return ignore(`${e.code} without session description changes nothing`);
    case 'answered':
      return early ? change(s, 'Connected', { code: e.code, reason: e.reason, storeAnswer: true }) : ignore(`retransmitted ${e.code} while ${s.status}`);
    case 'rejected':
      return early ? change(s, statusForFinalResponse(e.code, s.cancelledBy), { code: e.code, reason: e.reason }) : ignore(`final ${e.code} after the session was established`);
    case 'no-final-answer':
      return early ? change(s, 'Failed', { reason: 'no final answer (Timer B)' }) : ignore('timeout after establishment');
    case 'transport-failure':
      return change(s, 'Failed', { reason: e.message });
    default:
      return assertNever(e);
  }
}

/**
 * A re-INVITE or UPDATE from the network is answered with our last SDP adapted to the new offer's
 * direction (RFC 3264 §8). An offer that holds us moves the session to Hold; the next active one
 * to Resume; any other new media is still reported (the app must apply it).
 */
function onRemoteOffer(s: SessionView, e: Extract<SessionEvent, { kind: 'remote-offer' }>): Decision {
  if (PHASE[s.status] === 'final') return ignore(`${e.method} while ${s.status}`);
  if (!s.hasLocalSdp) return go(s.status, { actions: [{ kind: 'offer-pending' }] });
  // Offerless re-INVITE / UPDATE: our current SDP is the offer (its answer comes in the ACK).
  if (e.offer === 'none') return go(s.status, { actions: [{ kind: 'accept-offer' }] });
  const next: SessionStatus = e.offer === 'holds' ? 'Hold' : s.status === 'Hold' ? 'Resume' : s.status;
  return go(next, { reason: `${e.method} from the far end`, report: true, actions: [{ kind: 'accept-offer' }] });
}

function onModified(s: SessionView, e: Extract<SessionEvent, { kind: 'modified' }>): Decision {
  const what = e.method === 'INVITE' ? 're-INVITE' : 'UPDATE';
  switch (e.outcome) {
    case 'accepted': {
      const next: SessionStatus = e.change === 'hold' ? 'Hold' : e.change === 'resume' ? 'Resume' : s.status;
      return go(next, { code: e.code, reason: e.reason, report: true });
    }
    case 'refused':
      return refuse('BAD_GATEWAY', `The far end refused the ${what} (${e.code} ${e.reason}); the session is unchanged.`);
    case 'gone':
      // RFC 3261 §12.2.1.2: a 481 or 408 to an in-dialog request ends the dialog.
      return change(s, 'Terminated', {
        code: e.code,
        reason: e.reason,
        fail: { error: 'INCOMPATIBLE_STATE', message: `The far end no longer knows this call (${e.code} ${e.reason}); it is Terminated.` },
      });
    default:
      return assertNever(e.outcome);
  }
}

/** DELETE: CANCEL (or 603) before a final answer, BYE once connected; an ended session is only hidden. */
function onDelete(s: SessionView): Decision {
  const phase = PHASE[s.status];
  switch (phase) {
    case 'final':
      return go(s.status, { deleted: true });
    case 'early':
      if (s.direction === 'incoming') {
        // RFC 3261 §21.6.2: the callee does not want to take the call.
        return change(s, 'Declined', { code: 603, reason: 'declined by the application', deleted: true, actions: s.holdsInvite ? [{ kind: 'reject', cause: 'declined' }] : [] });
      }
      return change(s, 'SessionCancelled', { reason: 'cancelled by the application', cancelledBy: 'client', deleted: true, actions: [{ kind: 'hang-up' }] });
    case 'established':
      return change(s, 'Terminated', { reason: 'ended by the application', deleted: true, actions: [{ kind: 'hang-up' }] });
    default:
      return assertNever(phase);
  }
}

/**
 * PUT /status, either party. The callee answers an incoming call (Ringing → 180, with SDP or
 * InProgress → 183, Connected + answer → 200, Declined → 603); either party holds, resumes or
 * re-offers an established call. Anything else is refused.
 */
function onAppStatus(s: SessionView, e: Extract<SessionEvent, { kind: 'app-status' }>): Decision {
  if (PHASE[s.status] === 'final') return refuse('INCOMPATIBLE_STATE', `The session is ${s.status}: its status cannot change any more.`);
  if (s.direction === 'incoming' && PHASE[s.status] === 'early') return onAnswering(s, e);
  if (PHASE[s.status] === 'early') {
    // RFC 3311: new media in an early dialog goes in an UPDATE.
    if ((e.status === 'InProgress' || e.status === 'Connected') && e.hasOffer && s.hasRemoteTag) return go(s.status, { actions: [{ kind: 'modify', change: 'offer' }] });
    return refuse('INCOMPATIBLE_STATE', `Status ${e.status} cannot be set on an outgoing session in status ${s.status}: the network decides.`);
  }
  switch (e.status) {
    case 'Hold':
      if (!s.hasLocalSdp) return refuse('INCOMPATIBLE_STATE', 'The session has no local SDP to put on hold.');
      return go(s.status, { actions: [{ kind: 'modify', change: 'hold' }] });
    case 'Resume':
      if (s.status !== 'Hold' || !s.hasLocalSdp) return refuse('INCOMPATIBLE_STATE', `Only a held session can be resumed (it is ${s.status}).`);
      return go(s.status, { actions: [{ kind: 'modify', change: 'resume' }] });
    case 'Connected':
    case 'InProgress':
      if (e.hasOffer) return go(s.status, { actions: [{ kind: 'modify', change: 'offer' }] });
      if (e.hasLocation) return go(s.status, { actions: [{ kind: 'send-location' }] });
      return refuse('INCOMPATIBLE_STATE', `The session is already ${s.status}; send a new offer to change its media.`);
    case 'Initial':
    case 'Ringing':
    case 'Proceeding':
    case 'Waiting':
    case 'Terminated':
    case 'SessionCancelled':
    case 'Declined':
    case 'Failed':
    case 'NoAnswer':
    case 'NotReachable':
    case 'Busy':
      return refuse('INCOMPATIBLE_STATE', `Status ${e.status} cannot be set on an established session.`);
    default:
      return assertNever(e.status);
  }
}

function onAnswering(s: SessionView, e: Extract<SessionEvent, { kind: 'app-status' }>): Decision {
  if (!s.holdsInvite) return refuse('INCOMPATIBLE_STATE', 'The incoming call is not held by this gateway instance any more (answered elsewhere or gone).');
  const use = e.status in ANSWERING ? ANSWERING[e.status as keyof typeof ANSWERING] : undefined;
  switch (use) {
    case 'progress': {
      const ringing = e.status === 'Ringing' && !e.hasAnswer;
      return change(s, e.status, { code: ringing ? 180 : 183, actions: [{ kind: 'progress', progress: ringing ? 'ringing' : 'session-progress' }] });
    }
    case 'answer':
      if (s.offerless && !e.hasOffer) return refuse('INVALID_ARGUMENT', 'offer.sdp is required to accept a call that came without an offer (status Connected); the answer comes in the ACK.');
      if (!s.offerless && !e.hasAnswer) return refuse('INVALID_ARGUMENT', 'answer.sdp is required to accept a call (status Connected).');
      // Connected once the ACK arrives (RFC 3261 §13.3.1.4).
      return go(s.status, { actions: [{ kind: 'answer' }] });
    case 'decline':
      return change(s, 'Declined', { code: 603, reason: 'declined by the application', actions: [{ kind: 'reject', cause: 'declined' }] });
    case undefined:
      return refuse('INCOMPATIBLE_STATE', `Status ${e.status} does not answer an incoming call (use Ringing, InProgress, Connected or Declined).`);
    default:
      return assertNever(use);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}
