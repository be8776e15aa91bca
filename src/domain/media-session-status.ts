/** The CAMARA `SessionStatus` vocabulary and its groups (the state machine is `sessions/session-status.ts`). */
export const SESSION_STATUSES = [
  'Initial',
  'InProgress',
  'Ringing',
  'Proceeding',
  'Connected',
  'Terminated',
  'Hold',
  'Resume',
  'SessionCancelled',
  'Declined',
  'Failed',
  'Waiting',
  'NoAnswer',
  'NotReachable',
  'Busy',
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/**
 * Where each status stands in the life of a call. `early`: before any final answer (a DELETE
 * cancels with CANCEL / 603); `established`: BYE ends it, re-INVITE/UPDATE may change it;
 * `final`: nothing more happens.
 */
export type SessionPhase = 'early' | 'established' | 'final';

export const PHASE = {
  Initial: 'early',
  InProgress: 'early',
  Ringing: 'early',
  Proceeding: 'early',
  Waiting: 'early',
  Connected: 'established',
  Hold: 'established',
  Resume: 'established',
  Terminated: 'final',
  SessionCancelled: 'final',
  Declined: 'final',
  Failed: 'final',
  NoAnswer: 'final',
  NotReachable: 'final',
  Busy: 'final',
} as const satisfies Record<SessionStatus, SessionPhase>;

const inPhase = (phase: SessionPhase): ReadonlySet<SessionStatus> => new Set(SESSION_STATUSES.filter((s) => PHASE[s] === phase));

/** Statuses after which nothing more happens in the session. */
export const FINAL_STATUSES = inPhase('final');
/** Before any final answer. */
export const EARLY_STATUSES = inPhase('early');
/** Established calls. */
export const ESTABLISHED_STATUSES = inPhase('established');

export const isFinal = (s: SessionStatus): boolean => PHASE[s] === 'final';
