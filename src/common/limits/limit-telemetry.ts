/** Every request-rate limit and quota the gateway enforces (README, "Limits"). */
export type LimitName = 'requests-per-token' | 'requests-per-address' | 'registrations-per-number' | 'sessions-per-number' | 'subscriptions-per-device';

/** What limits report for monitoring (implemented by the observability module's GatewayMetrics). */
export interface LimitTelemetry {
  /** A request was refused with 429 by `limit`. */
  limitRefused(limit: LimitName): void;
}

/** Optional DI token for a LimitTelemetry. */
export const LIMIT_TELEMETRY = Symbol('LIMIT_TELEMETRY');
