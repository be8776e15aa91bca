import type { WebrtcEventType } from '../domain/webrtc-event-type';
import type { QuotaExceeded } from './quota';

/** The event types a client may subscribe to (`subscription-ended` is implicit, spec `SubscriptionEventType`). */
export type SubscriptionEventType = Exclude<WebrtcEventType, 'org.camaraproject.webrtc-events.v0.subscription-ended'>;

/** CAMARA `TerminationReason` of a `subscription-ended` event. */
export type TerminationReason = 'MAX_EVENTS_REACHED' | 'NETWORK_TERMINATED' | 'SUBSCRIPTION_EXPIRED' | 'ACCESS_TOKEN_EXPIRED' | 'SUBSCRIPTION_DELETED';

/** CAMARA `AccessTokenCredential`, the only sink credential this gateway accepts. Secret: never logged. */
export interface AccessTokenSinkCredential {
  credentialType: 'ACCESSTOKEN';
  accessToken: string;
  /** RFC 3339, as given by the client. */
  accessTokenExpiresUtc: string;
  accessTokenType: 'bearer';
}

/**
 * A webrtc-events subscription as stored. Plain JSON.
 *
 * `ACTIVE` subscriptions receive events. An `ENDED` one is invisible to clients and to fan-out; it is
 * kept only until its queue (ending with `subscription-ended`) has been delivered, then purged.
 */
export interface StoredSubscription {
  id: string;
  /** Who may read, update and delete it: the phone number of the creating token. */
  owner: string;
  /** Fan-out key, with `deviceId`: events about (phoneNumber, deviceId) go to this subscription. */
  phoneNumber: string;
  deviceId: string;
  protocol: 'HTTP';
  sink: string;
  sinkCredential?: AccessTokenSinkCredential;
  types: SubscriptionEventType[];
  /** RFC 3339, as requested by the client. */
  subscriptionExpireTime?: string;
  /** RFC 3339. */
  startsAt: string;
  /**
   * When the subscription ends on its own (epoch ms): the earliest of `subscriptionExpireTime` and
   * the access token's expiry (minus a notice margin). Absent: it lasts until deleted.
   */
  endsAt?: number;
  state: 'ACTIVE' | 'ENDED';
  terminationReason?: TerminationReason;
  /** Compare-and-set counter; the store sets it. */
  version: number;
}

/**
 * Subscriptions, indexed by id, by (phoneNumber, deviceId) for fan-out and by owner for listing,
 * and by `endsAt` for the expiry sweep. No scans on request paths.
 */
export abstract class SubscriptionStore {
  /**
   * Stores a new ACTIVE subscription (version 1). With `maxPerDevice` > 0 it is refused
   * (QuotaExceeded, nothing written) when (phoneNumber, deviceId) already has that many ACTIVE
   * subscriptions not past `endsAt`; the check and the insert are one atomic step.
   */
  abstract create(sub: StoredSubscription, maxPerDevice?: number): Promise<QuotaExceeded | undefined>;
  /** Any state (ENDED ones until purged). */
  abstract get(id: string): Promise<StoredSubscription | undefined>;
  /** ACTIVE subscriptions of `owner` not past `endsAt`. */
  abstract listByOwner(owner: string): Promise<StoredSubscription[]>;
  /** ACTIVE subscriptions for (phoneNumber, deviceId) not past `endsAt`. */
  abstract findByDevice(phoneNumber: string, deviceId: string): Promise<StoredSubscription[]>;
  /** Compare-and-set on an ACTIVE subscription; re-indexes `endsAt`. Identity fields must not change. */
  abstract update(next: StoredSubscription, expectedVersion: number): Promise<StoredSubscription | undefined>;
  /**
   * ACTIVE → ENDED, atomically: drops it from the device, owner and expiry indexes. Resolves with the
   * ended record if this call ended it, undefined if it was already ended or gone.
   */
  abstract end(id: string, reason: TerminationReason): Promise<StoredSubscription | undefined>;
  /** Removes the record and every index entry (after its final event was handled). */
  abstract purge(id: string): Promise<void>;
  /**
   * Leases up to `limit` ACTIVE subscriptions whose `endsAt` ≤ `now` for `leaseMs`: another instance
   * calling this meanwhile does not get them. A lease ends with `end`, `purge` or `update`.
   */
  abstract claimDue(now: number, limit: number, leaseMs: number): Promise<StoredSubscription[]>;
}

/** How long a record outlives its `endsAt` (or its ending) so that its final events can still be delivered. */
export const SUBSCRIPTION_GRACE_MS = 24 * 3600_000;
