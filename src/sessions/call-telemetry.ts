import type { SessionStatus } from '../domain/media-session-status';

export type CallDirection = 'incoming' | 'outgoing';

/**
 * What call handling reports for the call-setup KPIs (implemented by the observability module's
 * GatewayMetrics). Labels are directions, statuses and codes only, never identities.
 */
export interface CallTelemetry {
  callStarted(direction: CallDirection): void;
  /** First 18x: post-dial delay. */
  callProvisional(direction: CallDirection, ms: number): void;
  /** Answered: session request delay (RFC 6076 SRD). */
  callAnswered(direction: CallDirection, ms: number, code: number): void;
  callEnded(direction: CallDirection, status: SessionStatus, sipCode: number | undefined, reason: string | undefined, answered: boolean): void;
}

/** Optional DI token for a CallTelemetry. */
export const CALL_TELEMETRY = Symbol('CALL_TELEMETRY');
