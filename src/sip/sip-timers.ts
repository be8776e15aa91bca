/** SIP timer values (RFC 3261 §17, Table 4), overridable per gateway instance. */
export interface SipTimers {
  /** RFC 3261 §17.1.1.1 T1 (RTT estimate), T2 (max non-INVITE retransmit interval), T4 (max message lifetime). */
  t1: number;
  t2: number;
  t4: number;
  /** Timer B / Timer F (64*T1 = 32 s by RFC 3261); injectable so tests can fail fast. */
  transactionTimeoutMs: number;
  /** Guard for an INVITE client transaction stuck in Proceeding (no final answer, CANCEL lost). */
  maxInviteMs: number;
  /** A received INVITE nobody answered finally within this time gets 480 (safety net). */
  uasInviteGuardMs: number;
  /** A received non-INVITE nobody answered within this time gets 500. */
  uasNonInviteGuardMs: number;
  /** Milliseconds per second of an RFC 4028 session interval (1000; lab tests shrink it). */
  sessionTimerUnitMs: number;
}

export const DEFAULT_TIMERS: SipTimers = {
  t1: 500,
  t2: 4000,
  t4: 5000,
  transactionTimeoutMs: 32_000,
  maxInviteMs: 300_000,
  uasInviteGuardMs: 185_000,
  uasNonInviteGuardMs: 5_000,
  sessionTimerUnitMs: 1000,
};

/** Optional injection token: a `Partial<SipTimers>` overriding the defaults (tests use short Timer B/F). */
export const SIP_TIMERS = Symbol('SIP_TIMERS');
