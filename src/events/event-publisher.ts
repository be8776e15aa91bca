/**
 * The events port: how features (registrations, sessions) report what happened. The events
 * module turns each call into one CloudEvent per matching active subscription, persisted before
 * `publish` resolves (at-least-once delivery to the subscription's sink).
 */
import { WebrtcEventType } from '../domain/webrtc-event-type';
import type { FanOutRequest, FanOutResult } from '../store/event-queue';

export { WebrtcEventType };

/** The device an event is about: subscriptions are made per (phone number of the token, deviceId). */
export interface EventAudience {
  phoneNumber: string;
  deviceId: string;
}

/** An event to persist in the same store step as the write that causes it (`SessionStore#updateAndFanOut`). */
export interface StagedEvent {
  request: FanOutRequest;
  /** Takes the store's `enqueued` result: the leased queues go to the delivery worker. Resolves the number of events. */
  settle(result: Extract<FanOutResult, { kind: 'enqueued' }>): number;
}

export abstract class EventPublisher {
  /**
   * Persists one event per active subscription of `audience` that asked for `type`.
   * Resolves with the number of events enqueued (0: nobody subscribed).
   */
  abstract publish(
    audience: EventAudience,
    type: Exclude<WebrtcEventType, 'org.camaraproject.webrtc-events.v0.subscription-ended'>,
    data: Record<string, unknown>,
    opts?: { correlator?: string },
  ): Promise<number>;
  /**
   * The instance `owner` is gone (its cluster lease lapsed): the event deliveries it had leased are
   * released now, so that its queued events go out from here within seconds instead of after the
   * delivery lease. Resolves the number of queues released.
   */
  abstract releaseDeliveriesOf(owner: string): Promise<number>;
  /**
   * The fan-out request of `publish`, for a store write that persists it itself; `settle` with its
   * result. Undefined: this publisher cannot stage, `publish` after the write.
   */
  stage(
    _audience: EventAudience,
    _type: Exclude<WebrtcEventType, 'org.camaraproject.webrtc-events.v0.subscription-ended'>,
    _data: Record<string, unknown>,
    _opts?: { correlator?: string },
  ): StagedEvent | undefined {
    return undefined;
  }
  /** Whether an active subscription of `audience` asks for `type` (an incoming call with nobody listening is refused). */
  abstract hasSubscribers(audience: EventAudience, type: WebrtcEventType): Promise<boolean>;
}
