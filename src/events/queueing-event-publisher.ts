import { randomUUID } from 'node:crypto';
import { Clock } from '../common/clock';
import { EventQueue } from '../store/event-queue';
import { SubscriptionStore } from '../store/subscription-store';
import type { DeliveryHandOff } from './delivery-worker';
import { EventAudience, EventPublisher, StagedEvent, WebrtcEventType } from './event-publisher';

/** Event ids sent with each fan-out; a device with more matching subscriptions costs one more round trip. */
const IDS_PER_FANOUT = 4;

/**
 * The EventPublisher: one queued event per ACTIVE subscription of the audience that asked for the
 * type, persisted before `publish` resolves. The lookup and the enqueues are one store operation
 * (`EventQueue#fanOut`), which also leases each free queue to this instance's worker: delivery
 * starts at once, in-process, instead of waiting for a poll.
 */
export class QueueingEventPublisher extends EventPublisher {
  constructor(
    private readonly store: SubscriptionStore,
    private readonly queue: EventQueue,
    private readonly delivery?: DeliveryHandOff,
    private readonly clock: Clock = Clock.system,
  ) {
    super();
  }

  async publish(
    audience: EventAudience,
    type: Exclude<WebrtcEventType, 'org.camaraproject.webrtc-events.v0.subscription-ended'>,
    data: Record<string, unknown>,
    opts?: { correlator?: string },
  ): Promise<number> {
    const time = new Date(this.clock.now()).toISOString();
    let n = IDS_PER_FANOUT;
    for (;;) {
      const ids = Array.from({ length: n }, () => randomUUID());
      const claim = this.delivery?.leaseFor();
      const leasedAt = this.clock.now();
      const r = await this.queue.fanOut({
        phoneNumber: audience.phoneNumber,
        deviceId: audience.deviceId,
        type,
        time,
        data,
        ids,
        ...(opts?.correlator !== undefined ? { correlator: opts.correlator } : {}),
        ...(claim ? { claim } : {}),
      });
      if (r.kind === 'need-ids') {
        n = r.needed + IDS_PER_FANOUT;
        continue;
      }
      if (r.claimed.length > 0) this.delivery?.handOff(r.claimed, leasedAt);
      return r.events.length;
    }
  }

  async releaseDeliveriesOf(owner: string): Promise<number> {
    return (await this.queue.releaseAllOf(owner, this.clock.now())).length;
  }

  override stage(
    audience: EventAudience,
    type: Exclude<WebrtcEventType, 'org.camaraproject.webrtc-events.v0.subscription-ended'>,
    data: Record<string, unknown>,
    opts?: { correlator?: string },
  ): StagedEvent {
    const claim = this.delivery?.leaseFor();
    const leasedAt = this.clock.now();
    return {
      request: {
        phoneNumber: audience.phoneNumber,
        deviceId: audience.deviceId,
        type,
        time: new Date(leasedAt).toISOString(),
        data,
        ids: Array.from({ length: IDS_PER_FANOUT }, () => randomUUID()),
        ...(opts?.correlator !== undefined ? { correlator: opts.correlator } : {}),
        ...(claim ? { claim } : {}),
      },
      settle: (r) => {
        if (r.claimed.length > 0) this.delivery?.handOff(r.claimed, leasedAt);
        return r.events.length;
      },
    };
  }

  async hasSubscribers(audience: EventAudience, type: WebrtcEventType): Promise<boolean> {
    const subs = await this.store.findByDevice(audience.phoneNumber, audience.deviceId);
    // subscription-ended needs no subscription of its own: any active subscription receives it.
    return subs.some((s) => type === WebrtcEventType.subscriptionEnded || (s.types as readonly string[]).includes(type));
  }
}
