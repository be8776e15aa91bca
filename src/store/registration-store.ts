import type { DialogState } from '../domain/dialog-state';
import type { RegistrationBinding } from '../domain/registration-binding';
import type { QuotaExceeded } from './quota';

/**
 * The `reg` event subscription of an IMS registration (RFC 3680, RFC 6665), kept with it so that
 * any instance can refresh it and match its NOTIFYs (the Call-ID names the registration).
 */
export interface RegEventState {
  /** The subscription dialog once a 2xx created it; absent before, and after the notifier ended it. */
  dialog?: DialogState;
  /** When the notifier's subscription lapses (epoch ms). */
  expiresAt?: number;
  /** When to SUBSCRIBE next: a refresh, a retry or a new subscription (epoch ms). Absent: never again. */
  dueAt?: number;
  /** When the REGISTER refresh is due (epoch ms); the record's `dueAt` is the earlier of the two. */
  registerDueAt: number;
  /** Consecutive failed SUBSCRIBEs (reset on success). */
  failures: number;
  /** The last reginfo version applied (RFC 3680 §5.2), in the subscription of `callId`. */
  version?: { callId: string; value: number };
}

/** A device registration (webrtc-registration) and its SIP binding, as stored. Plain JSON. */
export interface Registration {
  registrationId: string;
  deviceId: string;
  /** E.164 from the token; the IMS public identity is `sip:<phoneNumber>@<domain>`. */
  phoneNumber: string;
  /** `sub` of the token that created it (informational). */
  subject?: string;
  createdAt: number;
  /** CAMARA `expiresAt` (epoch ms): the binding is removed then. */
  expiresAt: number;
  /** The SIP binding; refreshed before `networkExpiresAt`. */
  binding: RegistrationBinding;
  /** What the registrar granted last (epoch ms). */
  networkExpiresAt: number;
  /** When the refresher must act next (epoch ms): a SIP refresh, or the removal at `expiresAt`. */
  dueAt: number;
  /** Consecutive refresh failures (reset on success). */
  refreshFailures: number;
  /** The `reg` event subscription (`SIP_IMS_PROFILE=ims` only). */
  regEvent?: RegEventState;
  /** Compare-and-set counter; the store sets it. */
  version: number;
}

/**
 * Registrations, indexed by id and by (phoneNumber, deviceId). Records disappear on their own a
 * grace period after `expiresAt` (TTL), so an abandoned store never grows.
 */
export abstract class RegistrationStore {
  /**
   * Stores a new registration unless one exists for (phoneNumber, deviceId) (then resolves false)
   * or, with `maxPerNumber` > 0, unless the number already has that many active ones (`expiresAt`
   * after the store's clock): then resolves QuotaExceeded. Check and insert are one atomic step.
   */
  abstract create(reg: Registration, maxPerNumber?: number): Promise<boolean | QuotaExceeded>;
  abstract get(registrationId: string): Promise<Registration | undefined>;
  abstract findByDevice(phoneNumber: string, deviceId: string): Promise<Registration | undefined>;
  /** Whether a record exists for (phoneNumber, deviceId), the one `create` would refuse for; one read, no record parsed. */
  abstract hasDevice(phoneNumber: string, deviceId: string): Promise<boolean>;
  /** Compare-and-set: replaces the record if its version is still `expectedVersion`. */
  abstract update(next: Registration, expectedVersion: number): Promise<Registration | undefined>;
  /** Removes the record and its indexes if its version is still `expectedVersion` (any version if omitted). */
  abstract delete(registrationId: string, expectedVersion?: number): Promise<boolean>;
  /**
   * Leases up to `limit` registrations whose `dueAt` ≤ `now` for `leaseMs`: another instance
   * calling this meanwhile does not get them. A lease ends with `update` (new dueAt) or `delete`.
   */
  abstract claimDue(now: number, limit: number, leaseMs: number): Promise<Registration[]>;
  /** Number of stored registrations (metrics). */
  abstract count(): Promise<number>;
  /** Registrations of `phoneNumber` whose `expiresAt` is after `now` (the per-number quota). */
  abstract countActiveByNumber(phoneNumber: string, now: number): Promise<number>;
}

/** How long a registration record outlives its `expiresAt` so that the final un-REGISTER can still be sent. */
export const REGISTRATION_GRACE_MS = 5 * 60_000;
