import type { WebrtcEventType } from '../events/event-publisher';

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
 * The durable outbox: one FIFO per subscription. An event is persisted here before anybody tries
 * to deliver it. Subscriptions with a due head are "ready"; a worker claims a ready subscription
 * under a lease (so one instance at a time drains it, in order) and ends the lease with `ack`,
 * `retryAt` or `release`. A lease that is not renewed expires and the subscription becomes
 * claimable again (a crashed instance's work is taken over).
 */
export abstract class EventQueue {
  /** Appends to the subscription's queue, assigning `sequence`; the subscription is ready now unless already queued. */
  abstract enqueue(event: Omit<QueuedEvent, 'sequence'>): Promise<QueuedEvent>;
  /** Leases up to `limit` ready subscriptions (head due at `now`) to `owner` for `leaseMs`; resolves their ids. */
  abstract claimReady(now: number, limit: number, leaseMs: number, owner: string): Promise<string[]>;
  abstract head(subscriptionId: string): Promise<QueueHead | undefined>;
  /** Extends `owner`'s lease; false when the lease was lost (expired and taken). */
  abstract renew(subscriptionId: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Removes the head if it is `eventId` and `owner` holds the lease. */
  abstract ack(subscriptionId: string, eventId: string, owner: string): Promise<boolean>;
  /** Records a failed attempt of the head (`attempts` so far) and ends the lease; ready again at `notBefore`. */
  abstract retryAt(subscriptionId: string, eventId: string, attempts: number, notBefore: number, owner: string): Promise<boolean>;
  /** Ends `owner`'s lease; the subscription is ready at `readyAt` if its queue is not empty. */
  abstract release(subscriptionId: string, owner: string, readyAt: number): Promise<void>;
  /** Deletes the subscription's queue (and sequence); resolves the ids of the events removed. */
  abstract discard(subscriptionId: string): Promise<string[]>;
  /** Events waiting across all subscriptions (metrics). */
  abstract backlog(): Promise<number>;
}
