import type { SipFailureKind } from '../sip/sip-gateway';

/** Why a REGISTER refresh failed (`SipFailure.kind`). */
export type RegistrationRefreshFailure = SipFailureKind;

/** What the registration refresher reports for monitoring (implemented by the observability module's GatewayMetrics). */
export interface RegistrationTelemetry {
  registrationRefreshFailed(reason: RegistrationRefreshFailure): void;
}

/** Optional DI token for a RegistrationTelemetry. */
export const REGISTRATION_TELEMETRY = Symbol('REGISTRATION_TELEMETRY');
