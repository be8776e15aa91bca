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

/** Statuses after which nothing more happens in the session. */
export const FINAL_STATUSES: ReadonlySet<SessionStatus> = new Set<SessionStatus>([
  'Terminated',
  'SessionCancelled',
  'Declined',
  'Failed',
  'NoAnswer',
  'NotReachable',
  'Busy',
]);

/** Before any final answer: a DELETE cancels (CANCEL / 603) instead of hanging up (BYE). */
export const EARLY_STATUSES: ReadonlySet<SessionStatus> = new Set<SessionStatus>(['Initial', 'InProgress', 'Ringing', 'Proceeding', 'Waiting']);

/** Established: BYE ends it; re-INVITE/UPDATE may change it. */
export const ESTABLISHED_STATUSES: ReadonlySet<SessionStatus> = new Set<SessionStatus>(['Connected', 'Hold', 'Resume']);

export const isFinal = (s: SessionStatus): boolean => FINAL_STATUSES.has(s);
