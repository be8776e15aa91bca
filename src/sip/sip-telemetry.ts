/**
 * What the SIP stack reports for monitoring (implemented by the observability module's
 * GatewayMetrics). Labels are methods and codes only, never identities.
 */
export interface SipTelemetry {
  sipMessage(direction: 'in' | 'out', method: string, code?: number): void;
  sipRetransmission(method: string): void;
  sipTransactionTimeout(method: string): void;
  sipTransportError(kind: 'send' | 'receive' | 'parse' | 'connection'): void;
}

/** Optional DI token for a SipTelemetry. */
export const SIP_TELEMETRY = Symbol('SIP_TELEMETRY');
