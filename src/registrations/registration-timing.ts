/**
 * Pure timing rules of a registration: the CAMARA expiry a client gets, and when the gateway
 * must refresh the SIP binding.
 */
import { outOfRange } from '../common/errors/api-error';

export interface TtlPolicy {
  minTtlS: number;
  maxTtlS: number;
  defaultTtlS: number;
}

/**
 * `registrationExpireTime` below now + minimum → 400 OUT_OF_RANGE; above now + maximum → capped;
 * absent → now + default TTL (CAMARA webrtc-registration, RegSessionRequest).
 */
export function resolveExpiry(requested: string | undefined, now: number, policy: TtlPolicy): number {
  if (requested === undefined) return now + policy.defaultTtlS * 1000;
  const at = Date.parse(requested);
  if (Number.isNaN(at)) throw outOfRange('registrationExpireTime is not a valid date-time.');
  if (at < now + policy.minTtlS * 1000) {
    throw outOfRange(`registrationExpireTime must be at least ${policy.minTtlS} s in the future.`);
  }
  return Math.min(at, now + policy.maxTtlS * 1000);
}

/**
 * When to refresh a binding the registrar granted for `grantedS` seconds: a minute before it
 * lapses for long grants, half-way for short ones (RFC 3261 §10.2.4 leaves the margin to the UA).
 */
export function refreshAt(now: number, grantedS: number): number {
  const margin = grantedS > 120 ? grantedS - 60 : grantedS / 2;
  return now + Math.max(1, margin) * 1000;
}

/** Backoff between failed refreshes: 5 s, 10 s, 20 s … capped at 60 s. */
export function retryDelayMs(failures: number): number {
  return Math.min(60_000, 5000 * 2 ** Math.max(0, failures - 1));
}

/** How long the gateway asks the registrar for: never beyond the CAMARA expiry. */
export function requestedExpiresS(now: number, expiresAt: number, registerExpiresS: number): number {
  return Math.max(1, Math.min(registerExpiresS, Math.ceil((expiresAt - now) / 1000)));
}
