/**
 * What the SIP stack reports for monitoring (implemented by the observability module's
 * GatewayMetrics). Labels are methods and codes only, never identities.
 */
export interface SipTelemetry {
  sipMessage(direction: 'in' | 'out', method: string, code?: number): void;
  sipRetransmission(method: string): void;
  sipTransactionTimeout(method: string): void;
  sipTransportError(kind: 'send' | 'receive' | 'parse' | 'connection'): void;
  /** Traffic refused at the edge: untrusted source (RFC 3325), malformed, wrong version, TCP limits. */
  sipRefused(reason: SipRefusalReason): void;
}

export type SipRefusalReason = 'untrusted' | 'malformed' | 'version' | 'tcp-cap' | 'tcp-idle' | 'tcp-too-large' | 'tcp-bad-framing';

/** Optional DI token for a SipTelemetry. */
export const SIP_TELEMETRY = Symbol('SIP_TELEMETRY');
