import type { WebrtcEventType } from '../domain/webrtc-event-type';
import type { StoredSubscription } from './subscription-store';

/** One event waiting for delivery to one subscription's sink. Plain JSON. */
export interface QueuedEvent {
  /** CloudEvent `id`. */
  id: string;
  subscriptionId: string;
  type: WebrtcEventType;
  /** CloudEvent `time` (RFC 3339). */
  time: string;
  data: Record<string, unknown>;
  /** x-correlator of the request (or SIP transaction) that caused it. */
  correlator?: string;
  /** Per-subscription sequence number (1, 2, …), assigned by the queue on enqueue. */
  sequence: number;
}

/** The head of a subscription's queue and how many delivery attempts it has already had. */
export interface QueueHead {
  event: QueuedEvent;
  attempts: number;
}

/**
 * A subscription's queue leased to the caller, with what delivering its head needs: the head and
 * the subscription record (any state; undefined when the record is gone, so the queue must be
 * dropped). Returned by the combined operations below so that a delivery costs no extra reads.
 */
export interface ClaimedQueue {
  subscriptionId: string;
  head: QueueHead;
  subscription: StoredSubscription | undefined;
}

/** One `fanOut`: the event (without its per-subscription id) for every matching subscription of a device. */
export interface FanOutRequest {
  phoneNumber: string;
  deviceId: string;
  type: Exclude<WebrtcEventType, 'org.camaraproject.webrtc-events.v0.subscription-ended'>;
  time: string;
  data: Record<string, unknown>;
  correlator?: string;
  /** Event ids to use, one per matching subscription, in order. */
  ids: string[];
  /** Lease each queue that is free and due to `owner` at once, and return its head (in-process hand-off). */
  claim?: { owner: string; leaseMs: number };
}

export type FanOutResult =
  /** Every matching subscription got its event (persisted); `claimed` are the queues now leased to the owner. */
  | { kind: 'enqueued'; events: QueuedEvent[]; claimed: ClaimedQueue[] }
  /** More subscriptions match than `ids` were given: nothing was written; call again with `needed` ids. */
  | { kind: 'need-ids'; needed: number };

/** What `ackAndNext` found. */
export type AckNext =
  /** The lease was lost or the head is not `eventId`: nothing changed, stop draining. */
  | { kind: 'lost' }
  /** Acked; the queue is empty and the lease has ended. */
  | { kind: 'empty' }
  /** Acked; the lease was extended and this is the next head. */
  | { kind: 'next'; next: ClaimedQueue };

/**
 * The durable outbox: one FIFO per subscription. An event is persisted here before anybody tries
 * to deliver it. Subscriptions with a due head are "ready"; a worker claims a ready subscription
 * under a lease (so one instance at a time drains it, in order) and ends the lease with `ack`,
 * `retryAt` or `release`. A lease that is not renewed expires and the subscription becomes
 * claimable again (a crashed instance's work is taken over).
 */
export abstract class EventQueue {
  /** Appends to the subscription's queue, assigning `sequence`; the subscription is ready now unless already queued. */
  abstract enqueue(event: Omit<QueuedEvent, 'sequence'>): Promise<QueuedEvent>;
  /** Extends `owner`'s lease; false when the lease was lost (expired and taken). */
  abstract renew(subscriptionId: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Removes the head if it is `eventId` and `owner` holds the lease. */
  abstract ack(subscriptionId: string, eventId: string, owner: string): Promise<boolean>;
  /** Records a failed attempt of the head (`attempts` so far) and ends the lease; ready again at `notBefore`. */
  abstract retryAt(subscriptionId: string, eventId: string, attempts: number, notBefore: number, owner: string): Promise<boolean>;
  /** Ends `owner`'s lease; the subscription is ready at `readyAt` if its queue is not empty. */
  abstract release(subscriptionId: string, owner: string, readyAt: number): Promise<void>;
  /**
   * Ends every lease `owner` holds now (an instance that is gone: its queues need not wait for
   * their leases to expire); each queue is ready at `now`. Resolves the subscription ids released.
   */
  abstract releaseAllOf(owner: string, now: number): Promise<string[]>;
  /** Deletes the subscription's queue (and sequence); resolves the ids of the events removed. */
  abstract discard(subscriptionId: string): Promise<string[]>;
  /** Events waiting across all subscriptions (metrics). */
  abstract backlog(): Promise<number>;

  // ----- combined operations (one store round trip each) used by the delivery path

  /**
   * Atomically: finds the ACTIVE subscriptions of (phoneNumber, deviceId) not past `endsAt` that
   * asked for `type` (as `SubscriptionStore.findByDevice` would) and appends one event to each
   * one's queue (`enqueue` semantics). With `claim`, each of those queues that has no lease and a
   * due head is leased to `claim.owner` (as `claimReadyHeads` would) and returned with its head, so the
   * caller can deliver at once instead of waiting for a poll.
   */
  abstract fanOut(req: FanOutRequest): Promise<FanOutResult>;
  /**
   * Leases up to `limit` ready subscriptions (head due at `now`, no live lease) to `owner` for
   * `leaseMs`; resolves each one's head and subscription record (one round trip).
   */
  abstract claimReadyHeads(now: number, limit: number, leaseMs: number, owner: string): Promise<ClaimedQueue[]>;
  /**
   * `ack`, then in the same atomic step: if the queue has a next event, extend `owner`'s lease by
   * `leaseMs` and return that head; otherwise end the lease (as `release` would).
   */
  abstract ackAndNext(subscriptionId: string, eventId: string, owner: string, leaseMs: number): Promise<AckNext>;
}
